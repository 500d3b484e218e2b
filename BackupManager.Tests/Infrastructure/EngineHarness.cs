using BackupManager.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// A real engine over a test's own database and folders: a backup folder and two file roots ("xrays" with
/// incompressible images, "documents" with text), wired exactly as the host wires it.
/// </summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<IDisposable> _owned = [];

    private EngineHarness(TestDatabase database, TestFolder folder, ServiceProvider services, BackupOptions options)
    {
        Database = database;
        Folder = folder;
        _services = services;
        Options = options;
    }

    public TestDatabase Database { get; }
    public TestFolder Folder { get; }
    public BackupOptions Options { get; }
    public IBackupService Engine => _services.GetRequiredService<IBackupService>();
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();
    public string BackupDirectory => Options.Directory;
    public string Xrays => Options.Paths[0];
    public string Documents => Options.Paths[1];

    /// <summary>
    /// A harness over a new database and folders, owned by a non-superuser role with CREATEDB. By default the engine
    /// logs in as the superuser and restores as that owner (Backup__RestoreConnection); <paramref name="asOwnerRole"/>
    /// logs in as the owner for everything (the documented deployment). <paramref name="database"/> uses a database
    /// made by the caller (on another cluster, say), which the harness then drops.
    /// </summary>
    public static async Task<EngineHarness> CreateAsync(
        Action<BackupOptions>? configure = null, string? connectionString = null, bool withDatabase = true,
        Action<IServiceCollection>? replaceServices = null, bool asOwnerRole = false, TestDatabase? database = null)
    {
        var ownDatabase = database is null && connectionString is null;
        database ??= await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var folder = new TestFolder();
        var options = new BackupOptions
        {
            Directory = folder.Sub("backups"),
            Paths = [folder.Sub("clinic", "xrays"), folder.Sub("clinic", "documents")],
            CommandTimeout = TimeSpan.FromMinutes(5),
            RestoreConnection = ownDatabase && !asOwnerRole ? database.ConnectionString : null,
        };
        if (ownDatabase && !asOwnerRole)
            connectionString = TestPostgres.With(database.AdminConnectionString, database.Name);
        configure?.Invoke(options);
        var collection = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddBackupEngine(
                o => Copy(options, o), withDatabase ? connectionString ?? database.ConnectionString : null);
        replaceServices?.Invoke(collection);
        var services = collection.BuildServiceProvider();
        return new EngineHarness(database, folder, services, options);
    }

    /// <summary>A small clinic: patients with text, numbers and bytea; X-ray images; nested documents.</summary>
    public async Task SeedAsync()
    {
        await Database.ExecuteAsync(
            "CREATE TABLE patients (id serial PRIMARY KEY, name text NOT NULL, born date, balance numeric(10,2), "
            + "photo bytea);\n"
            + "INSERT INTO patients (name, born, balance, photo)\n"
            + "  SELECT 'Patient ' || g, date '1950-01-01' + g, g * 1.25, decode(md5(g::text), 'hex') "
            + "FROM generate_series(1, 500) g;\n"
            + "CREATE TABLE appointments (id serial PRIMARY KEY, patient_id int REFERENCES patients(id), "
            + "at timestamptz, note text);\n"
            + "INSERT INTO appointments (patient_id, at, note)\n"
            + "  SELECT 1 + g % 500, timestamptz '2026-01-01 09:00+00' + g * interval '1 hour', 'Check-up ' || g "
            + "FROM generate_series(1, 2000) g;");
        TestFolder.WriteFile(Path.Combine(Xrays, "2026", "patient-1.jpg"), TestFolder.RandomBytes(200_000));
        TestFolder.WriteFile(Path.Combine(Xrays, "2026", "patient-2.png"), TestFolder.RandomBytes(150_000));
        TestFolder.WriteFile(
            Path.Combine(Documents, "consent", "patient-1.txt"),
            System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("I consent to treatment. ", 2000))));
        TestFolder.WriteFile(Path.Combine(Documents, "invoice-1.pdf"), TestFolder.RandomBytes(30_000));
        TestFolder.WriteFile(Path.Combine(Documents, "empty.txt"), []);
    }

    public Task<BackupInfo> CreateBackupAsync(
        BackupScope scope = BackupScope.Full, BackupTrigger trigger = BackupTrigger.Manual) =>
        Engine.CreateAsync(new CreateBackupRequest(scope, trigger, "test@clinic"));

    public Task<RestoreResult> RestoreAsync(string filename, BackupScope scope = BackupScope.Full) =>
        Engine.RestoreAsync(new RestoreBackupRequest(filename, scope, "test@clinic"));

    public string PathOf(string filename) => Path.Combine(BackupDirectory, filename);

    /// <summary>A backup's manifest entries, read into a list (a reader streams them and a report leaves them out).
    /// </summary>
    public List<ManifestEntry> EntriesOf(string filename)
    {
        using var archive = BackupManager.Core.Archive.BackupArchiveReader.Open(PathOf(filename));
        return [.. archive.Manifest.Entries];
    }

    /// <summary>Disposes <paramref name="resource"/> (a test's key folder, say) with the harness.</summary>
    public T Owns<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public async ValueTask DisposeAsync()
    {
        // A point-in-time test that failed midway may leave its temporary server running, past the whole test run.
        Core.Pitr.RecoveryInstance.RemoveLeftovers(new Core.Pitr.PitrLayout(BackupDirectory),
            _services.GetRequiredService<Core.Database.ExternalProcessRunner>());
        try
        {
            await AssertEveryVerifiedArchiveReadsWithStockToolsAsync();
            await _services.DisposeAsync();
            await Database.DisposeAsync();
        }
        finally
        {
            Folder.Dispose();
            foreach (var resource in _owned) resource.Dispose();
        }
    }

    /// <summary>
    /// Every archive the engine made in this test (whatever verifies; a test's deliberately damaged copies do not) must
    /// also pass unzip -t and Python's zipfile: verify must never accept what the restore by hand would refuse.
    /// </summary>
    private async Task AssertEveryVerifiedArchiveReadsWithStockToolsAsync()
    {
        if (!Directory.Exists(BackupDirectory)) return;
        foreach (var path in Directory.GetFiles(BackupDirectory, "*.zip"))
        {
            try { await Engine.VerifyAsync(Path.GetFileName(path)); }
            catch (BackupException) { continue; }
            StockReaders.AssertReadable(path);
        }
    }

    private static void Copy(BackupOptions from, BackupOptions to)
    {
        to.Directory = from.Directory;
        to.Paths = [.. from.Paths];
        to.Exclude = [.. from.Exclude];
        to.MaxBackups = from.MaxBackups;
        to.KeepWeekly = from.KeepWeekly;
        to.KeepSafetyDays = from.KeepSafetyDays;
        to.CommandTimeout = from.CommandTimeout;
        to.PgBinDirectory = from.PgBinDirectory;
        to.DumpCompressionLevel = from.DumpCompressionLevel;
        to.RestoreJobs = from.RestoreJobs;
        to.Destinations = new(from.Destinations, StringComparer.OrdinalIgnoreCase);
        to.Encryption = from.Encryption;
        to.DrillChecks = [.. from.DrillChecks];
        to.RestoreConnection = from.RestoreConnection;
        to.LowPriorityBytesPerSecond = from.LowPriorityBytesPerSecond;
        to.LowPriorityFollowsLoad = from.LowPriorityFollowsLoad;
        to.LowPriorityBusyTransactionsPerSecond = from.LowPriorityBusyTransactionsPerSecond;
        to.ManualPriority = from.ManualPriority;
        to.ScheduledPriority = from.ScheduledPriority;
        to.Pitr = from.Pitr;
    }
}
