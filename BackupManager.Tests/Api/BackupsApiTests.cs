using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using BackupManager.Tests.Infrastructure;
using static BackupManager.Tests.Api.BackupsApi;

namespace BackupManager.Tests.Api;

/// <summary>The /api/v1/backups resource through the real app, with a real database and folders.</summary>
public sealed class BackupsApiTests
{
    [Fact]
    public async Task Create_returns_202_with_the_job_location_and_the_job_succeeds_with_the_new_filename()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;

        var response = await admin.PostAsJsonAsync("/api/v1/backups", new { only_db = true });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Matches("^/api/v1/backups/jobs/[0-9a-f-]{36}$", response.Headers.Location!.ToString());
        var accepted = (await JsonAsync(response)).GetProperty("data");
        Assert.Equal("create", accepted.GetProperty("kind").GetString());
        Assert.Contains(accepted.GetProperty("status").GetString(), new[] { "queued", "running" });

        var job = await WaitForJobAsync(admin, response.Headers.Location!.ToString());
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var filename = job.GetProperty("filename").GetString()!;

        var list = await JsonAsync(await admin.GetAsync("/api/v1/backups"));
        var row = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(filename, row.GetProperty("filename").GetString());
        Assert.Equal(["database"], row.GetProperty("contains").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("manual", row.GetProperty("trigger").GetString());
        Assert.EndsWith("Z", row.GetProperty("created_at").GetString());
        Assert.Equal(1, list.GetProperty("meta").GetProperty("count").GetInt32());
        Assert.Equal(10, list.GetProperty("meta").GetProperty("max_backups").GetInt32());
        Assert.Equal(row.GetProperty("size").GetInt64(), list.GetProperty("meta").GetProperty("total_size").GetInt64());
    }

    [Fact]
    public async Task Two_concurrent_creates_give_one_202_and_one_409_problem()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        // Big enough that the first create is still running when the second arrives.
        for (var i = 0; i < 10; i++)
            TestFolder.WriteFile(Path.Combine(host.Harness.Xrays, $"scan-{i}.dcm"), TestFolder.RandomBytes(5_000_000));

        var responses = await Task.WhenAll(
            Enumerable.Range(0, 2).Select(_ => admin.PostAsJsonAsync("/api/v1/backups", new { })));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var conflict = responses.Single(r => r.StatusCode == HttpStatusCode.Conflict);
        Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType!.MediaType);
        Assert.Contains(
            "Another backup operation is running", (await JsonAsync(conflict)).GetProperty("detail").GetString());
        await WaitForJobAsync(
            admin, responses.Single(r => r.StatusCode == HttpStatusCode.Accepted).Headers.Location!.ToString());
    }

    [Fact]
    public async Task Restore_job_restores_the_database()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var filename = (await CreateAndWaitAsync(admin)).GetProperty("filename").GetString();
        await host.Harness.Database.ExecuteAsync("UPDATE patients SET name = 'changed' WHERE id = 1");

        var response = await admin.PostAsJsonAsync("/api/v1/backups/restore", new { filename, only_db = true });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await WaitForJobAsync(admin, response.Headers.Location!.ToString());

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.StartsWith("backup-", job.GetProperty("safety_backup").GetString());
        Assert.Equal(
            "Patient 1", await host.Harness.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        // The restored database has no row for this token's user if it was made before... here it was made after:
        // still valid.
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/backups")).StatusCode);
    }

    [Theory]
    [InlineData("{\"only_db\":true,\"only_files\":true}", HttpStatusCode.BadRequest)]
    [InlineData("{}", HttpStatusCode.BadRequest)]
    [InlineData("{\"filename\":\"backup-2020-01-01-00-00-00.zip\"}", HttpStatusCode.NotFound)]
    [InlineData("{\"filename\":\"../../etc/passwd\"}", HttpStatusCode.BadRequest)]
    [InlineData("not json", HttpStatusCode.BadRequest)]
    public async Task Bad_restore_requests_get_problem_details_and_never_500(string body, HttpStatusCode expected)
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;

        var response = await admin.PostAsync(
            "/api/v1/backups/restore", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Download_streams_the_exact_bytes_supports_ranges_and_etags()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var filename = (await CreateAndWaitAsync(admin)).GetProperty("filename").GetString()!;
        var onDisk = await File.ReadAllBytesAsync(host.Harness.PathOf(filename));

        var full = await admin.GetAsync($"/api/v1/backups/download/{filename}");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("application/zip", full.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", full.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal(filename, full.Content.Headers.ContentDisposition.FileName?.Trim('"'));
        Assert.Equal(onDisk, await full.Content.ReadAsByteArrayAsync());
        var etag = full.Headers.ETag!;

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/backups/download/{filename}");
        request.Headers.Range = new RangeHeaderValue(1000, 1999);
        var partial = await admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(onDisk.AsSpan(1000, 1000).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/backups/download/{filename}");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await admin.SendAsync(conditional)).StatusCode);
    }

    [Fact]
    public async Task Delete_answers_204_then_404_and_the_file_is_gone()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var filename = (await CreateAndWaitAsync(admin, new { only_files = true }))
            .GetProperty("filename").GetString()!;

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/backups/{filename}")).StatusCode);
        Assert.False(File.Exists(host.Harness.PathOf(filename)));
        var again = await admin.DeleteAsync($"/api/v1/backups/{filename}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Jobs_that_do_not_exist_are_404()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var response = await admin.GetAsync($"/api/v1/backups/jobs/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Pin_and_unpin_protect_a_backup_from_retention()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var filename = (await CreateAndWaitAsync(admin, new { only_files = true }))
            .GetProperty("filename").GetString()!;

        Assert.Equal(
            HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v1/backups/{filename}/pin", null)).StatusCode);
        var row = (await JsonAsync(await admin.GetAsync("/api/v1/backups"))).GetProperty("data")[0];
        Assert.True(row.GetProperty("pinned").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/backups/{filename}/pin")).StatusCode);
        row = (await JsonAsync(await admin.GetAsync("/api/v1/backups"))).GetProperty("data")[0];
        Assert.False(row.GetProperty("pinned").GetBoolean());
    }

    [Fact]
    public async Task Every_call_is_recorded_in_the_audit_log()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        await admin.GetAsync("/api/v1/backups");
        await admin.DeleteAsync("/api/v1/backups/backup-2020-01-01-00-00-00.zip");

        var log = await File.ReadAllLinesAsync(Path.Combine(host.Harness.BackupDirectory, "audit.log"));
        Assert.Contains(log, l => l.Contains("\"action\":\"api\"")
            && l.Contains("GET /api/v1/backups")
            && l.Contains("admin@clinic.test (token)"));
        Assert.Contains(log, l => l.Contains("\"action\":\"delete\"") && l.Contains("\"outcome\":\"refused\""));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var response = await admin.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = (await JsonAsync(response)).GetProperty("paths");
        foreach (var path in new[]
                 {
                     "/api/v1/backups", "/api/v1/backups/restore", "/api/v1/backups/download/{filename}",
                     "/api/v1/backups/{filename}",
                     "/api/v1/backups/jobs/{id}", "/api/v1/backups/upload", "/api/v1/backups/{filename}/pin",
                 })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        Assert.True(paths.GetProperty("/api/v1/backups").TryGetProperty("post", out var post));
        Assert.True(post.GetProperty("responses").TryGetProperty("409", out _));
    }

    [Fact]
    public async Task History_returns_each_day_by_trigger_with_sizes_and_durations_and_the_drills()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        await host.Harness.CreateBackupAsync();
        await host.Harness.CreateBackupAsync(Core.BackupScope.DatabaseOnly, Core.BackupTrigger.Daily);
        var drill = await host.Harness.Engine.DrillAsync(new Core.Drills.DrillRequest(null, "test@clinic"));
        Assert.True(drill.Passed, string.Join(" ", drill.Failures));

        var response = await admin.GetAsync("/api/v1/backups/history?days=7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = (await JsonAsync(response)).GetProperty("data");
        Assert.Equal("Europe/Paris", data.GetProperty("time_zone").GetString());
        var days = data.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(["daily", "manual"], days.Select(d => d.GetProperty("trigger").GetString()).Order());
        var manual = days.Single(d => d.GetProperty("trigger").GetString() == "manual");
        Assert.Equal(1, manual.GetProperty("count").GetInt32());
        Assert.True(
            manual.GetProperty("database_bytes").GetInt64() > 0 && manual.GetProperty("files_bytes").GetInt64() > 0);
        Assert.True(manual.GetProperty("average_seconds").GetDouble() > 0);
        var drillRow = Assert.Single(data.GetProperty("drills").EnumerateArray());
        Assert.True(drillRow.GetProperty("passed").GetBoolean());
        Assert.True(drillRow.GetProperty("restore_seconds").GetDouble() >= 0);
        Assert.True(drillRow.GetProperty("tables_checked").GetInt32() >= 2);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client().GetAsync("/api/v1/backups/history")).StatusCode);
    }

    [Fact]
    public async Task Create_takes_a_priority_and_refuses_an_unknown_one_saying_what_it_may_be()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var bad = await admin.PostAsJsonAsync("/api/v1/backups", new { priority = "slow" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("must be \"low\"", (await JsonAsync(bad)).GetProperty("detail").GetString());
        var job = await CreateAndWaitAsync(admin, new { only_db = true, priority = "normal" });
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
    }
}
