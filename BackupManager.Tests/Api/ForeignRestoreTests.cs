using System.Net;
using System.Net.Http.Json;
using BackupManager.Tests.Infrastructure;
using Npgsql;
using static BackupManager.Tests.Api.BackupsApi;

namespace BackupManager.Tests.Api;

/// <summary>An archive made by another installation (its own database, folders and signing key), uploaded and restored
/// with allow_foreign through the API.</summary>
public sealed class ForeignRestoreTests
{
    [Fact]
    public async Task An_upload_restored_with_allow_foreign_brings_back_every_row_and_file_of_its_source()
    {
        await using var elsewhere = await EngineHarness.CreateAsync();
        await elsewhere.SeedAsync();
        await elsewhere.Database.ExecuteAsync("CREATE SCHEMA billing; CREATE TABLE billing.invoices (id serial "
            + "PRIMARY KEY, amount numeric(10,2)); INSERT INTO billing.invoices (amount) SELECT g * 2.5 FROM "
            + "generate_series(1, 50) g;");
        TestFolder.WriteFile(Path.Combine(elsewhere.Documents, "elsewhere", "note.txt"), "from elsewhere"u8.ToArray());
        var source = await ClinicState.CaptureAsync(elsewhere);
        var archive = await File.ReadAllBytesAsync(elsewhere.PathOf((await elsewhere.CreateBackupAsync()).Filename));

        await using var host = await WebAppHost.StartAsync();
        var h = host.Harness;
        await h.SeedAsync();
        await h.Database.ExecuteAsync("UPDATE patients SET name = 'ours'; CREATE TABLE ours_only (id int);");
        TestFolder.WriteFile(Path.Combine(h.Xrays, "ours", "scan.jpg"), TestFolder.RandomBytes(1000));
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));
        var upload = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(archive));
        var uploaded = (await JsonAsync(upload)).GetProperty("data");
        Assert.True(uploaded.GetProperty("foreign").GetBoolean());
        var filename = uploaded.GetProperty("filename").GetString()!;

        var response = await admin.PostAsJsonAsync("/api/v1/backups/restore", new { filename, allow_foreign = true });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await WaitForJobAsync(admin, response.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        NpgsqlConnection.ClearAllPools();
        var restored = await ClinicState.CaptureAsync(h);
        Assert.Equal(source.Database, restored.Database);
        Assert.Equal(source.Files, restored.Files);
    }
}
