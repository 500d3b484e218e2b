using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using BackupManager.Core;
using static BackupManager.Tests.Api.BackupsApi;

namespace BackupManager.Tests.Api;

/// <summary>GET /api/v1/pitr and POST /api/v1/backups/restore with to_time, through the real app with its own WAL
/// receiver, a real base backup and a restore to the second.</summary>
public sealed class PitrApiTests
{
    [Fact]
    public async Task The_status_shows_the_window_and_a_restore_to_a_time_brings_back_what_was_there_then()
    {
        await using var app = await PitrWebApp.StartAsync();
        var files = (await CreateAndWaitAsync(app.Admin)).GetProperty("filename").GetString();
        await app.Database.ExecuteAsync(
            "CREATE TABLE notes (id int, text text); INSERT INTO notes VALUES (1, 'before')");
        await Task.Delay(1000);
        var target = DateTimeOffset.UtcNow;
        await Task.Delay(1000);
        await app.Database.ExecuteAsync("INSERT INTO notes VALUES (2, 'after')");

        var status = (await JsonAsync(await app.Admin.GetAsync("/api/v1/pitr"))).GetProperty("data");
        Assert.True(status.GetProperty("enabled").GetBoolean());
        Assert.True(status.GetProperty("streaming").GetBoolean());
        var from = status.GetProperty("window_from").GetDateTimeOffset();
        var to = status.GetProperty("window_to").GetDateTimeOffset();
        Assert.True(from < target && target < to, $"{from:O} < {target:O} < {to:O}");
        Assert.EndsWith("Z", status.GetProperty("window_from").GetString());
        Assert.StartsWith("20", status.GetProperty("last_base_backup").GetString());
        Assert.True(status.GetProperty("lag_seconds").GetDouble() >= 0);
        Assert.True(status.GetProperty("slot_retained_bytes").GetInt64() >= 0);

        var response = await app.Admin.PostAsJsonAsync("/api/v1/backups/restore",
            new { to_time = target.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await JsonAsync(response)).GetProperty("data");
        Assert.Equal("point-in-time-restore", accepted.GetProperty("kind").GetString());
        var job = await WaitForJobAsync(app.Admin, response.Headers.Location!.ToString());

        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal(["1|before"], await app.Database.RowsAsync("SELECT id, text FROM notes ORDER BY id"));
        var pit = job.GetProperty("point_in_time");
        Assert.Equal(files, pit.GetProperty("files_from").GetString());
        Assert.Equal(status.GetProperty("last_base_backup").GetString(), pit.GetProperty("base_backup").GetString());
        var archive = pit.GetProperty("archive").GetString();
        Assert.Equal(archive, job.GetProperty("filename").GetString());
        Assert.StartsWith("backup-", job.GetProperty("safety_backup").GetString());
        var list = (await JsonAsync(await app.Admin.GetAsync("/api/v1/backups"))).GetProperty("data");
        Assert.Contains(list.EnumerateArray(), b => b.GetProperty("filename").GetString() == archive
            && b.GetProperty("trigger").GetString() == BackupTrigger.PointInTime.ToName());
    }

    [Fact]
    public async Task A_time_outside_the_window_or_both_inputs_are_refused_with_400_and_nothing_changes()
    {
        await using var app = await PitrWebApp.StartAsync();
        var before = await app.Database.ScalarAsync<long>("SELECT count(*) FROM patients");

        var outside = await app.Admin.PostAsJsonAsync("/api/v1/backups/restore",
            new { to_time = "2020-01-01 12:00:00", only_db = true });
        var both = await app.Admin.PostAsJsonAsync("/api/v1/backups/restore",
            new { filename = "backup-2026-01-01-00-00-00.zip", to_time = "2020-01-01 12:00:00" });
        var neither = await app.Admin.PostAsJsonAsync("/api/v1/backups/restore", new { only_db = true });
        var notATime = await app.Admin.PostAsJsonAsync("/api/v1/backups/restore", new { to_time = "yesterday" });

        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        Assert.Contains("outside the window", (await JsonAsync(outside)).GetProperty("detail").GetString());
        foreach (var refused in new[] { both, neither })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
            Assert.Contains("exactly one of them", (await JsonAsync(refused)).GetProperty("detail").GetString());
        }
        Assert.Equal(HttpStatusCode.BadRequest, notATime.StatusCode);
        Assert.Contains("to_time 'yesterday' is not a time",
            (await JsonAsync(notATime)).GetProperty("detail").GetString());
        Assert.Empty((await JsonAsync(await app.Admin.GetAsync("/api/v1/backups"))).GetProperty("data")
            .EnumerateArray());
        Assert.Equal(before, await app.Database.ScalarAsync<long>("SELECT count(*) FROM patients"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Host.Client().GetAsync("/api/v1/pitr")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Host.Client().PostAsJsonAsync("/api/v1/backups/restore",
            new { to_time = "2020-01-01 12:00:00" })).StatusCode);
    }

    [Fact]
    public async Task With_it_off_the_status_says_so_and_a_restore_to_a_time_says_how_to_turn_it_on()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;

        var status = (await JsonAsync(await admin.GetAsync("/api/v1/pitr"))).GetProperty("data");
        var response = await admin.PostAsJsonAsync("/api/v1/backups/restore",
            new { to_time = "2026-12-06T14:31:00+01:00" });

        Assert.False(status.GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await JsonAsync(response)).GetProperty("detail").GetString();
        Assert.Contains("Point-in-time recovery is off", detail);
        Assert.Contains("Backup__Pitr__Enabled=true", detail);
    }
}
