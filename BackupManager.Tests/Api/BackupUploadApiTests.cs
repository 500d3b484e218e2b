using System.Net;
using BackupManager.Tests.Infrastructure;
using static BackupManager.Tests.Api.BackupsApi;

namespace BackupManager.Tests.Api;

/// <summary>
/// Uploads to /api/v1/backups/upload through the real app: verified archives accepted, damaged, foreign or
/// oversized ones refused, and nothing left behind.
/// </summary>
public sealed class BackupUploadApiTests
{
    [Fact]
    public async Task Upload_accepts_a_downloaded_archive_and_refuses_damaged_or_foreign_files_with_422_leaving_none()
    {
        var (host, admin) = await StartAsync();
        await using var hostScope = host;
        var filename = (await CreateAndWaitAsync(admin, new { only_files = true }))
            .GetProperty("filename").GetString()!;
        var archive = await admin.GetByteArrayAsync($"/api/v1/backups/download/{filename}");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/backups/{filename}")).StatusCode);

        var damaged = (byte[])archive.Clone();
        damaged[damaged.Length / 2] ^= 0xFF;
        foreach (var bad in new[] { damaged, "not a zip at all"u8.ToArray(), archive[..(archive.Length / 2)] })
        {
            var refused = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(bad));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            Assert.Contains("failed verification", (await JsonAsync(refused)).GetProperty("detail").GetString());
        }
        Assert.Empty(Directory.GetFiles(host.Harness.BackupDirectory, "*.zip"));
        Assert.Empty(Directory.GetFiles(host.Harness.BackupDirectory, ".upload-*"));

        var accepted = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(archive));
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        var row = (await JsonAsync(accepted)).GetProperty("data");
        Assert.Equal(filename, row.GetProperty("filename").GetString());
        Assert.Equal("upload", row.GetProperty("trigger").GetString());
        Assert.False(row.GetProperty("foreign").GetBoolean()); // made here, downloaded and brought back: still ours
        await host.Harness.Engine.VerifyAsync(filename);

        var duplicate = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(archive));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
    }

    [Fact]
    public async Task An_upload_over_the_limit_gets_413_and_leaves_nothing()
    {
        await using var host = await WebAppHost.StartAsync(settings: s => s["Backup:MaxUploadBytes"] = "1000");
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));

        var response = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(new byte[5000]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Empty(Directory.GetFiles(host.Harness.BackupDirectory, "backup-*"));
        Assert.Empty(Directory.GetFiles(host.Harness.BackupDirectory, ".upload-*"));
    }
}
