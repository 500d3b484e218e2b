using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using BackupManager.Tests.Infrastructure;
using BackupManager.Tests.Offsite;

namespace BackupManager.Tests.Api;

/// <summary>
/// Off-site copies through the running web app: the background copier, the API's copies and destinations, and the
/// encrypted download.
/// </summary>
public sealed class DestinationsApiTests
{
    [Fact]
    public async Task The_web_app_copies_a_new_backup_in_the_background_and_the_api_shows_where_it_lives()
    {
        using var keys = new TestFolder();
        var (identityFile, recipient) = TestDestinations.Key(keys);
        var nas = keys.Sub("nas");
        var unplugged = Path.Combine(keys.Path, "usb-disk");
        await using var host = await WebAppHost.StartAsync(settings: s =>
        {
            s["Backup:Destinations:nas:Type"] = "folder";
            s["Backup:Destinations:nas:Path"] = nas;
            s["Backup:Destinations:usb:Type"] = "folder";
            s["Backup:Destinations:usb:Path"] = unplugged;
            s["Backup:Encryption:Recipients:0"] = recipient;
        });
        await host.Harness.SeedAsync();
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));
        var backup = await host.Harness.CreateBackupAsync();

        // Copied by the background worker, without anyone asking; the unplugged disk fails and says why.
        JsonElement row = default;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            row = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/backups")).RootElement.GetProperty("data")[0];
            var copies = row.GetProperty("copies");
            if (copies.GetProperty("nas").GetString() == "copied" && copies.GetProperty("usb").GetString() == "failed")
                break;
            await Task.Delay(250);
        }
        Assert.Equal("copied", row.GetProperty("copies").GetProperty("nas").GetString());
        Assert.Equal("failed", row.GetProperty("copies").GetProperty("usb").GetString());
        Assert.True(File.Exists(Path.Combine(nas, "backups", backup.Filename + ".json")));

        var destinations = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/destinations"))
            .RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(d => d.GetProperty("name").GetString()!);
        Assert.True(destinations["nas"].GetProperty("healthy").GetBoolean());
        Assert.True(destinations["nas"].GetProperty("encrypted").GetBoolean());
        Assert.Equal(
            [backup.Filename], destinations["nas"].GetProperty("held").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(
            "Is the disk or the network share mounted?", destinations["usb"].GetProperty("last_error").GetString());
        Assert.Equal(
            [backup.Filename], destinations["usb"].GetProperty("pending").EnumerateArray().Select(e => e.GetString()));

        // The disk is plugged in: "copy now" catches up at once.
        Directory.CreateDirectory(unplugged);
        var copied = await admin.PostAsync("/api/v1/destinations/usb/copy", null);
        Assert.Equal(HttpStatusCode.OK, copied.StatusCode);
        Assert.Equal(
            [backup.Filename],
            JsonDocument.Parse(await copied.Content.ReadAsStringAsync()).RootElement
                .GetProperty("data").GetProperty("copied").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            HttpStatusCode.NotFound, (await admin.PostAsync("/api/v1/destinations/nowhere/copy", null)).StatusCode);

        // The encrypted download: an age file the stock CLI opens into the very archive.
        var download = await admin.GetAsync($"/api/v1/backups/download/{backup.Filename}?encrypted=true");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(
            backup.Filename + ".age",
            download.Content.Headers.ContentDisposition!.FileNameStar
                ?? download.Content.Headers.ContentDisposition.FileName);
        var encrypted = Path.Combine(keys.Path, "laptop.zip.age");
        await File.WriteAllBytesAsync(encrypted, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(download.Content.Headers.ContentLength, new FileInfo(encrypted).Length);
        var (exit, output) = StockReaders.Run("age", "-d", "-i", identityFile, "-o", encrypted + ".zip", encrypted);
        Assert.True(exit == 0, output);
        Assert.Equal(
            SHA256.HashData(File.ReadAllBytes(host.Harness.PathOf(backup.Filename))),
            SHA256.HashData(File.ReadAllBytes(encrypted + ".zip")));

        // Health names the destinations, and the anonymous caller sees none of it.
        var health = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/backups/health"))
            .RootElement.GetProperty("data").GetProperty("checks").EnumerateArray()
            .Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("destination:nas", health);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client().GetAsync("/api/v1/destinations")).StatusCode);
    }

    [Fact]
    public async Task A_remote_destination_without_recipients_or_host_key_stops_the_start_naming_the_settings()
    {
        using var keys = new TestFolder();
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        var env = AppProcess.EnvironmentFor(h);
        env["Backup__Destinations__cloud__Type"] = "s3";
        env["Backup__Destinations__cloud__Bucket"] = "clinic";
        env["Backup__Destinations__cloud__Region"] = "eu-west-1";
        env["Backup__Destinations__cloud__AccessKeyId"] = "AKIA";
        env["Backup__Destinations__cloud__SecretAccessKey"] = "secret";
        env["Backup__Destinations__nas__Type"] = "sftp";
        env["Backup__Destinations__nas__Host"] = "nas.clinic.lan";
        env["Backup__Destinations__nas__Username"] = "backup";
        env["Backup__Destinations__nas__PrivateKeyFile"] = "/nonexistent/key";
        env["Backup__Destinations__nas__Path"] = "backups";
        env["Backup__Encryption__Recipients__0"] = "age1notakey";

        var result = await AppProcess.RunAsync(env, null, "app:list-backups");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(
            "Backup__Encryption__Recipients__0='age1notakey' is not an age X25519 recipient", result.Stderr);
        Assert.Contains(
            "Backup__Destinations__nas__HostKeySha256 must be the server's host key fingerprint", result.Stderr);
        Assert.Contains("Backup__Destinations__nas__PrivateKeyFile=/nonexistent/key does not exist", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
