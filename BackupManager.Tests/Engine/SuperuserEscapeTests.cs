using BackupManager.Core;
using BackupManager.Core.Drills;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// SET ROLE is no boundary: restored code can run RESET ROLE or RESET SESSION AUTHORIZATION and get the login role
/// back. So archive SQL (pg_restore, settings, the drill's counts and checks) never runs in a session that logged in
/// as a superuser, even when BackupManager's own connection is one. Each planted function touches a file through
/// COPY … TO PROGRAM (run by the OS user postgres) only if the reset made it a superuser.
/// </summary>
public sealed class SuperuserEscapeTests
{
    public static TheoryData<string> Resets => new() { "RESET ROLE", "RESET SESSION AUTHORIZATION" };

    /// <summary>Resets the role and, if that made it a superuser, runs a program touching <c>marker-tag</c>.</summary>
    private static string Plant(string reset, string marker) => $"""
        CREATE FUNCTION public.looks_harmless(x int, tag text) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
          EXECUTE '{reset}';
          IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch {marker}-' || tag);
          END IF;
          RETURN true;
        END $$;
        CREATE TABLE public.innocent (x int CHECK (public.looks_harmless(x, 'restore')));
        INSERT INTO public.innocent VALUES (1);
        CREATE VIEW public.report AS SELECT public.looks_harmless(1, 'check') AS ok;
        """;

    private static string NewMarker() => $"/tmp/bm-pwned-{Guid.NewGuid():N}";

    private static void AssertNoProgramRan(string marker)
    {
        var ran = Directory.GetFiles("/tmp", Path.GetFileName(marker) + "-*");
        foreach (var file in ran) File.Delete(file);
        Assert.True(ran.Length == 0, $"archive SQL ran a program as the server's OS user: {string.Join(", ", ran)}");
    }

    /// <summary>The clinic as deployed (a non-superuser owner) with BackupManager logged in as the superuser.</summary>
    private static async Task<EngineHarness> SuperuserClinicAsync(Action<BackupOptions>? configure = null,
        bool restoreAsOwner = true)
    {
        var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var superuser = TestPostgres.With(TestPostgres.AdminConnectionString, database.Name);
        return await EngineHarness.CreateAsync(database: database, connectionString: superuser,
            configure: o =>
            {
                if (restoreAsOwner) o.RestoreConnection = database.ConnectionString;
                configure?.Invoke(o);
            });
    }

    [Theory]
    [MemberData(nameof(Resets))]
    public async Task The_owners_planted_function_in_an_own_backup_gets_no_superuser_rights_in_a_restore(string reset)
    {
        await using var h = await SuperuserClinicAsync();
        var marker = NewMarker();
        await h.Database.ExecuteAsync(Plant(reset, marker)); // by the owner, who is no superuser: nothing fires
        var own = await h.CreateBackupAsync();
        Assert.False(own.Foreign);
        await h.Database.ExecuteAsync("INSERT INTO public.innocent VALUES (2)");

        await h.RestoreAsync(own.Filename);

        AssertNoProgramRan(marker);
        Assert.Equal(["1"], await h.Database.RowsAsync("SELECT x FROM public.innocent"));
    }

    [Theory]
    [MemberData(nameof(Resets))]
    public async Task A_drill_of_the_owners_planted_backup_runs_neither_restore_nor_checks_as_a_superuser(string reset)
    {
        await using var h = await SuperuserClinicAsync(o => o.DrillChecks = ["SELECT ok FROM public.report"]);
        var marker = NewMarker();
        await h.Database.ExecuteAsync(Plant(reset, marker));
        var own = await h.CreateBackupAsync();

        var result = await h.Engine.DrillAsync(new DrillRequest(null, "scheduler"));

        AssertNoProgramRan(marker);
        Assert.Equal(own.Filename, result.Filename);
        Assert.True(result.Passed, string.Join(" ", result.Failures));
        Assert.Equal(1, result.OperatorChecks);
    }

    [Theory]
    [MemberData(nameof(Resets))]
    public async Task An_uploaded_archive_restored_with_allow_foreign_cannot_reach_a_superuser_session(string reset)
    {
        // Made elsewhere by a superuser of another server: the function resets and runs its program unconditionally.
        await using var elsewhere = await EngineHarness.CreateAsync();
        var marker = NewMarker();
        await elsewhere.Database.ExecuteAsAdminAsync(CraftedCheckConstraint.Sql(
            $"EXECUTE '{reset}'; COPY (SELECT 1) TO PROGRAM 'touch {marker}-restore';"));
        var crafted = elsewhere.PathOf((await elsewhere.CreateBackupAsync(BackupScope.DatabaseOnly)).Filename);
        await using var h = await SuperuserClinicAsync();
        await h.Database.ExecuteAsync("CREATE TABLE public.patients (id int); INSERT INTO public.patients VALUES (7);");
        BackupInfo uploaded;
        await using (var upload = File.OpenRead(crafted))
            uploaded = await h.Engine.ImportAsync(upload, long.MaxValue, "admin@clinic");
        Assert.True(uploaded.Foreign);

        var failure = await Record.ExceptionAsync(() =>
            h.Engine.RestoreAsync(new RestoreBackupRequest(uploaded.Filename, BackupScope.DatabaseOnly, "admin@clinic",
                AllowForeign: true)));

        AssertNoProgramRan(marker);
        var error = Assert.IsType<BackupException>(failure);
        Assert.Contains("nothing was changed", error.Message);
        Assert.Contains("pg_execute_server_program", error.Message); // the owner may not run programs
        Assert.Equal(["7"], await h.Database.RowsAsync("SELECT id FROM public.patients"));
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    [Fact]
    public async Task Over_a_superuser_login_without_a_restore_connection_restore_and_drill_are_refused_naming_it()
    {
        await using var h = await SuperuserClinicAsync(restoreAsOwner: false);
        var marker = NewMarker();
        await h.Database.ExecuteAsync(Plant("RESET ROLE", marker));
        var own = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("INSERT INTO public.innocent VALUES (2)");

        var failure = await Record.ExceptionAsync(() => h.RestoreAsync(own.Filename));
        var drill = await h.Engine.DrillAsync(new DrillRequest(null, "scheduler"));

        AssertNoProgramRan(marker);
        var error = Assert.IsType<BackupException>(failure);
        Assert.Equal(BackupErrorKind.Refused, error.Kind);
        Assert.Contains("Backup__RestoreConnection", error.Message);
        Assert.Contains("Nothing was changed", error.Message);
        Assert.Contains("Backup__RestoreConnection", Assert.Single(drill.Failures));
        Assert.Equal(["1", "2"], await h.Database.RowsAsync("SELECT x FROM public.innocent ORDER BY x"));
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    [Fact]
    public async Task A_restore_connection_that_logs_in_as_a_superuser_is_refused_too()
    {
        await using var h = await SuperuserClinicAsync(o => o.RestoreConnection = TestPostgres.AdminConnectionString);
        await h.Database.ExecuteAsync("CREATE TABLE public.t (id int)");
        var own = await h.CreateBackupAsync(BackupScope.DatabaseOnly);

        var error = await Assert.ThrowsAsync<BackupException>(() =>
            h.RestoreAsync(own.Filename, BackupScope.DatabaseOnly));

        Assert.Equal(BackupErrorKind.Refused, error.Kind);
        Assert.Contains("Backup__RestoreConnection logs in as postgres, a superuser", error.Message);
    }
}
