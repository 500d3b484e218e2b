using BackupManager.Core;
using BackupManager.Core.Archive;
using BackupManager.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Each installation signs its archives; one without its signature (uploaded, copied in by hand, made elsewhere) is
/// foreign: listed as such, restored only with an explicit confirmation, and never with superuser rights.
/// </summary>
public sealed class SignedArchiveTests
{
    /// <summary>An archive made by another installation (another backup folder, so another key); its roles exist
    /// here.</summary>
    private static async Task<byte[]> ArchiveFromElsewhereAsync(bool asOwnerRole = false)
    {
        // Owned by the superuser of its server unless asOwnerRole: a role every server has.
        var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: asOwnerRole);
        await using var elsewhere = await EngineHarness.CreateAsync(database: database, asOwnerRole: asOwnerRole,
            connectionString: asOwnerRole ? null
                : TestPostgres.With(TestPostgres.AdminConnectionString, database.Name));
        await elsewhere.SeedAsync();
        return await File.ReadAllBytesAsync(elsewhere.PathOf((await elsewhere.CreateBackupAsync()).Filename));
    }

    [Fact]
    public async Task Own_backups_are_signed_and_another_installations_is_foreign_and_restored_only_when_confirmed()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        await h.SeedAsync();
        var own = await h.CreateBackupAsync();
        Assert.False(own.Foreign);
        Assert.False((await h.Engine.ListAsync()).Single().Foreign);
        Assert.Equal("600", Convert.ToString(
            (int)File.GetUnixFileMode(Path.Combine(h.BackupDirectory, ArchiveSigner.KeyFileName)), 8));

        var foreignName = "backup-2020-01-01-00-00-00.zip";
        await File.WriteAllBytesAsync(h.PathOf(foreignName), await ArchiveFromElsewhereAsync());
        Assert.True((await h.Engine.ListAsync()).Single(b => b.Filename == foreignName).Foreign);

        var refused = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(foreignName));
        Assert.Equal(BackupErrorKind.Refused, refused.Kind);
        Assert.Contains("was not made by this installation", refused.Message);
        Assert.Contains("--allow-foreign", refused.Message);
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));

        await h.Database.ExecuteAsync("UPDATE patients SET name = 'changed' WHERE id = 1");
        var restored = await h.Engine.RestoreAsync(
            new RestoreBackupRequest(foreignName, BackupScope.Full, "test@clinic", AllowForeign: true));
        Assert.Equal("Patient 1", await h.Database.ScalarAsync<string>("SELECT name FROM patients WHERE id = 1"));
        // made here
        Assert.False((await h.Engine.ListAsync()).Single(b => b.Filename == restored.SafetyBackup).Foreign);
    }

    [Fact]
    public async Task A_foreign_archive_is_refused_even_when_confirmed_if_its_sql_would_run_as_a_superuser()
    {
        // The superuser owns the database and BackupManager connects as it, with no Backup__RestoreConnection.
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var h = await EngineHarness.CreateAsync(database: database,
            connectionString: database.ConnectionString);
        await h.SeedAsync();
        var foreignName = "backup-2020-01-01-00-00-00.zip";
        await File.WriteAllBytesAsync(h.PathOf(foreignName), await ArchiveFromElsewhereAsync());

        var refused = await Assert.ThrowsAsync<BackupException>(() =>
            h.Engine.RestoreAsync(new RestoreBackupRequest(foreignName, BackupScope.DatabaseOnly, "test@clinic",
                AllowForeign: true)));

        Assert.Equal(BackupErrorKind.Refused, refused.Kind);
        Assert.Contains("never runs in a superuser's session", refused.Message);
        Assert.Contains("Backup__RestoreConnection", refused.Message);
        Assert.Contains("nothing was changed", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    [Fact]
    public async Task A_new_key_adopts_the_unsigned_backups_already_in_the_folder_but_not_uploads()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var made = await h.CreateBackupAsync();
        // As before signing existed: no signature, and no key yet.
        var path = h.PathOf(made.Filename);
        ArchiveSummary.RewriteInFile(path, ArchiveSummary.ReadFromFile(path)! with { Signature = null });
        var uploaded = "backup-2020-01-01-00-00-00.zip";
        await File.WriteAllBytesAsync(h.PathOf(uploaded), await ArchiveFromElsewhereAsync());
        ArchiveSummary.RewriteInFile(h.PathOf(uploaded),
            ArchiveSummary.ReadFromFile(h.PathOf(uploaded))! with { Signature = null, Trigger = BackupTrigger.Upload });
        File.Delete(Path.Combine(h.BackupDirectory, ArchiveSigner.KeyFileName));

        // The next process to start (a second engine over the same folder) makes the key and adopts.
        var services = new ServiceCollection().AddLogging().AddBackupEngine(o =>
        {
            o.Directory = h.BackupDirectory;
            o.Paths = [.. h.Options.Paths];
        }, h.Database.ConnectionString).BuildServiceProvider();
        await using var _ = services;
        var engine = services.GetRequiredService<IBackupService>();
        var bytesBefore = await File.ReadAllBytesAsync(path);
        var messages = await engine.RecoverAsync();
        // recorded beside it: a committed archive is never rewritten
        Assert.Equal(bytesBefore, await File.ReadAllBytesAsync(path));
        Assert.True(File.Exists(Path.Combine(h.BackupDirectory, ArchiveSigner.AdoptedFileName)));

        Assert.Contains(messages, m => m.Contains("Signed 1 backup(s)"));
        var list = await engine.ListAsync();
        Assert.False(list.Single(b => b.Filename == made.Filename).Foreign);
        Assert.True(list.Single(b => b.Filename == uploaded).Foreign);
    }

    [Fact]
    public async Task The_console_lists_a_foreign_backup_and_restores_it_only_with_allow_foreign()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        await h.SeedAsync();
        var foreignName = "backup-2020-01-01-00-00-00.zip";
        await File.WriteAllBytesAsync(h.PathOf(foreignName), await ArchiveFromElsewhereAsync());
        var env = AppProcess.EnvironmentFor(h);

        var list = await AppProcess.RunAsync(env, null, "app:list-backups");
        Assert.Contains("FOREIGN (not made here)", list.Stdout);
        var json = await AppProcess.RunAsync(env, null, "app:list-backups", "--json");
        Assert.Contains("\"foreign\": true", json.Stdout);

        var refused = await AppProcess.RunAsync(env, null, "app:restore-backup", foreignName, "--force");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--allow-foreign", refused.Stderr);
        var confirmed = await AppProcess.RunAsync(env, null, "app:restore-backup", foreignName, "--force",
            "--allow-foreign");
        Assert.True(confirmed.ExitCode == 0, confirmed.Stderr);
    }

    [Fact]
    public async Task A_foreign_archive_chooses_no_owner_for_restored_files_and_gives_other_users_no_access()
    {
        byte[] archive;
        await using (var elsewhere = await EngineHarness.CreateAsync(withDatabase: false))
        {
            var file = Path.Combine(elsewhere.Documents, "letter.txt");
            TestFolder.WriteFile(file, "to the clinic"u8.ToArray());
            File.SetUnixFileMode(file, (UnixFileMode)0x1B6); // 0666
            Core.IO.NativeFileSystem.SetOwner(file, 1234, 1234);
            archive = await File.ReadAllBytesAsync(
                elsewhere.PathOf((await elsewhere.CreateBackupAsync(BackupScope.FilesOnly)).Filename));
        }
        await using var h = await EngineHarness.CreateAsync(withDatabase: false);
        const string foreignName = "backup-2020-01-01-00-00-00.zip";
        await File.WriteAllBytesAsync(h.PathOf(foreignName), archive);

        await h.Engine.RestoreAsync(new RestoreBackupRequest(foreignName, BackupScope.FilesOnly, "test@clinic",
            AllowForeign: true));

        var restored = Path.Combine(h.Documents, "letter.txt");
        var status = Core.IO.NativeFileSystem.Stat(restored)!.Value;
        Assert.Equal(0u, status.Uid); // the restoring user (root here), not the archive's 1234
        Assert.Equal("660", Convert.ToString(status.Permissions, 8));
    }
}
