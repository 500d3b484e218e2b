using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Cluster;

namespace BackupManager.Tests.Cluster;

/// <summary>Quartz's own PostgreSQL tables, created in schema <c>quartz</c> by the database's non-superuser owner,
/// once, however many instances start together.</summary>
public sealed class QuartzSchemaInstallerTests
{
    [Fact]
    public async Task Instances_starting_together_create_the_tables_once_as_the_owner_and_later_starts_change_nothing()
    {
        await using var db = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        Assert.False(await db.ScalarAsync<bool>("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));

        // Six instances at once: without the advisory lock two of them create the schema side by side and one fails.
        using var go = new ManualResetEventSlim();
        var installs = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            go.Wait();
            return await QuartzSchemaInstaller.InstallAsync(db.ConnectionString, CancellationToken.None);
        })).ToList();
        go.Set();
        var created = await Task.WhenAll(installs);

        Assert.Single(created, c => c);
        var tables = await db.RowsAsync("SELECT tablename || '|' || tableowner FROM pg_tables "
            + "WHERE schemaname = 'quartz' ORDER BY 1");
        Assert.Equal(QuartzSchemaInstaller.Tables.Order(StringComparer.Ordinal).Select(t => $"{t}|{db.OwnerRole}"),
            tables);
        Assert.Contains("qrtz_locks", QuartzSchemaInstaller.Tables);
        Assert.Equal(15, tables.Count); // every table of Quartz 4.7.3's script
        Assert.Equal(db.OwnerRole, await db.ScalarAsync<string>(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'quartz'"));
        // Nothing landed in public: the script's tables all carry the schema.
        Assert.Equal(0L, await db.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'qrtz%'"));

        await db.ExecuteAsync("INSERT INTO quartz.qrtz_locks VALUES ('BackupManager', 'TRIGGER_ACCESS')");
        Assert.False(await QuartzSchemaInstaller.InstallAsync(db.ConnectionString, CancellationToken.None));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM quartz.qrtz_locks"));
    }

    [Fact]
    public void The_embedded_script_is_the_schema_script_of_the_Quartz_version_the_app_runs()
    {
        using var stream = typeof(Quartz.IJob).Assembly
            .GetManifestResourceStream("Quartz.Impl.AdoJobStore.Schema.create_postgres.sql")!;
        var shipped = new StreamReader(stream).ReadToEnd().ReplaceLineEndings("\n");
        var statements = shipped[shipped.IndexOf("-- {0}JOB_DETAILS", StringComparison.Ordinal)..]
            .Replace("{0}", QuartzSchemaInstaller.TablePrefix, StringComparison.Ordinal)
            .Replace("{1}", "qrtz_", StringComparison.Ordinal);
        var embedded = QuartzSchemaInstaller.Script.ReplaceLineEndings("\n");
        // A Quartz upgrade that changes its schema must come with this file updated (and a migration for databases
        // that already hold the old tables).
        Assert.Equal(statements.TrimEnd(), embedded[embedded.IndexOf("-- quartz.qrtz_JOB_DETAILS",
            StringComparison.Ordinal)..].TrimEnd());
    }

    [Fact]
    public async Task A_schema_holding_only_some_of_the_tables_is_refused_with_what_to_do()
    {
        await using var db = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        await db.ExecuteAsync("CREATE SCHEMA quartz; CREATE TABLE quartz.qrtz_locks (sched_name text, lock_name text)");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(
            () => QuartzSchemaInstaller.InstallAsync(db.ConnectionString, CancellationToken.None));

        Assert.Contains("holds only some of the tables Quartz needs (qrtz_locks, missing qrtz_blob_triggers",
            e.Message);
        Assert.Contains("DROP SCHEMA quartz CASCADE", e.Message);
        Assert.Contains("database/migrations", e.Message);
        Assert.Equal(1L, await db.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'quartz'"));
    }
}
