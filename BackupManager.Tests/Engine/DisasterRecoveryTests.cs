using System.Diagnostics;
using BackupManager.Core;
using BackupManager.Tests.Infrastructure;
using Npgsql;

namespace BackupManager.Tests.Engine;

/// <summary>
/// The server died. A second private cluster plays the new server: it has only the owner role and an empty database.
/// The backup made on the first cluster is restored there by the app and by hand (the runbook's script), and the data,
/// database-level state, grants, large objects and files with their metadata are compared with what was backed up.
/// </summary>
public sealed class DisasterRecoveryTests
{
    private sealed record Scene(EngineHarness Source, string Reader, DeployedClinic.State BackedUp, string Archive)
        : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Source.DisposeAsync();
    }

    /// <summary>A deployed clinic on the first cluster, backed up.</summary>
    private static async Task<Scene> BackUpOnTheOldServerAsync()
    {
        var source = await EngineHarness.CreateAsync(asOwnerRole: true);
        var reader = await DeployedClinic.SeedAsync(source);
        var backedUp = await DeployedClinic.CaptureAsync(source, reader);
        var backup = await source.CreateBackupAsync();
        return new Scene(source, reader, backedUp, source.PathOf(backup.Filename));
    }

    /// <summary>The new server: the owner role and an empty database of the same names; BackupManager connects as the
    /// owner or the superuser.</summary>
    private static async Task<EngineHarness> NewServerAsync(Scene scene, bool connectAsSuperuser)
    {
        var empty = await TestPostgres.CreateDatabaseAsync(
            adminConnectionString: TestPostgres.DisasterRecoveryConnectionString,
            name: scene.Source.Database.Name, ownerRole: scene.Source.Database.OwnerRole);
        empty.DropWithDatabase(scene.Reader);
        var harness = await EngineHarness.CreateAsync(database: empty,
            connectionString: connectAsSuperuser
                ? TestPostgres.With(TestPostgres.DisasterRecoveryConnectionString, empty.Name) : null,
            configure: o => o.RestoreConnection = connectAsSuperuser ? empty.ConnectionString : null);
        File.Copy(scene.Archive, harness.PathOf(Path.GetFileName(scene.Archive)));
        // The runbook: the escrowed signing key goes back into the backup folder before the first start, so the
        // clinic's backups are its own again (without it they restore only as foreign archives).
        File.Copy(Path.Combine(scene.Source.BackupDirectory, Core.Archive.ArchiveSigner.KeyFileName),
            Path.Combine(harness.BackupDirectory, Core.Archive.ArchiveSigner.KeyFileName), overwrite: true);
        return harness;
    }

    [Fact]
    public async Task Without_createrole_restore_names_the_missing_role_changes_nothing_then_works_after_roles_sql()
    {
        await using var scene = await BackUpOnTheOldServerAsync();
        await using var dr = await NewServerAsync(scene, connectAsSuperuser: false);
        var filename = Path.GetFileName(scene.Archive);

        var refused = await Assert.ThrowsAsync<BackupException>(() => dr.RestoreAsync(filename));
        Assert.Contains($"lacks the role(s) {scene.Reader}", refused.Message);
        Assert.Contains($"CREATE ROLE \"{scene.Reader}\" NOLOGIN;", refused.Message);
        Assert.Contains("nothing was changed", refused.Message);
        Assert.Equal([dr.Database.Name], await dr.Database.DatabasesLikeAsync());
        Assert.Equal(0L, await dr.Database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dr.Xrays));

        // What the message says to do: run the backup's roles script as a superuser, then restore again.
        RunShell($"unzip -p '{scene.Archive}' db/roles.sql | psql -X -q -v ON_ERROR_STOP=1 -d postgres",
            TestPostgres.DisasterRecoveryConnectionString);
        var result = await dr.RestoreAsync(filename);

        var restored = await DeployedClinic.CaptureAsync(dr, scene.Reader);
        // only a superuser may set it for another role: a warning says how
        var perRole = $"setting {scene.Reader}|{{work_mem=8MB}}";
        Assert.Equal(scene.BackedUp.ToString().Replace(perRole + "\n", ""), restored.ToString());
        Assert.Contains(result.Warnings, w => w.Contains("IN DATABASE") && w.Contains("work_mem"));
    }

    [Fact]
    public async Task As_superuser_the_restore_creates_the_missing_role_as_nologin_says_so_and_everything_comes_back()
    {
        await using var scene = await BackUpOnTheOldServerAsync();
        await using var dr = await NewServerAsync(scene, connectAsSuperuser: true);

        var result = await dr.RestoreAsync(Path.GetFileName(scene.Archive));

        Assert.Contains(result.Warnings, w => w.Contains($"lacked the role(s) {scene.Reader}")
            && w.Contains("created as NOLOGIN"));
        Assert.Equal(scene.BackedUp.ToString(), (await DeployedClinic.CaptureAsync(dr, scene.Reader)).ToString());
        Assert.False(await dr.Database.ScalarAsync<bool>(
            $"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{scene.Reader}'"));
    }

    [Fact]
    public async Task The_runbooks_restore_by_hand_with_stock_tools_brings_everything_back()
    {
        await using var scene = await BackUpOnTheOldServerAsync();
        await using var dr = await NewServerAsync(scene, connectAsSuperuser: true);
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../scripts/restore-by-hand.sh"));

        var output = RunShell($"'{script}' '{scene.Archive}' '{Path.GetDirectoryName(dr.Xrays)}'",
            TestPostgres.DisasterRecoveryConnectionString);

        Assert.Contains($"restored {dr.Database.Name} and 2 folder(s)", output);
        NpgsqlConnection.ClearAllPools();
        // unzip restores times to the second (the zip timestamp field); this app's own restore is exact to the tick.
        var backedUp = await DeployedClinic.CaptureAsync(scene.Source, scene.Reader, wholeSeconds: true);
        Assert.Equal(backedUp.ToString(), (await DeployedClinic.CaptureAsync(dr, scene.Reader, wholeSeconds: true))
            .ToString());
    }

    /// <summary>Runs a bash command with libpq's environment set to <paramref name="superuser"/>; fails the test on a
    /// non-zero exit.</summary>
    private static string RunShell(string command, string superuser)
    {
        var connection = new NpgsqlConnectionStringBuilder(superuser);
        var start = new ProcessStartInfo("bash", ["-o", "pipefail", "-c", command]) { RedirectStandardOutput = true,
            RedirectStandardError = true };
        start.Environment["PGHOST"] = connection.Host;
        start.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PGUSER"] = connection.Username;
        start.Environment["PGPASSWORD"] = connection.Password;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result + stderr.Result;
    }
}
