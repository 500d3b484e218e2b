using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// A login that is no superuser can still reach the server's OS user: members of pg_execute_server_program (and the
/// file roles) run COPY … TO PROGRAM, and on PostgreSQL 15 a CREATEROLE role may grant itself that membership.
/// Archive SQL never runs under such a login either: the restore is refused before anything changes.
/// </summary>
public sealed class ServerRightsLoginTests
{
    public static TheoryData<string, string> Rights => new()
    {
        { "GRANT pg_execute_server_program TO {0}", "pg_execute_server_program" },
        { "ALTER ROLE {0} CREATEROLE", "CREATEROLE" },
    };

    [Theory]
    [MemberData(nameof(Rights))]
    public async Task A_restore_login_that_can_reach_server_programs_is_refused_before_anything_changes(
        string grant, string named)
    {
        await using var h = await EngineHarness.CreateAsync(); // owner logs in for archive SQL
        var marker = $"/tmp/bm-pwned-{Guid.NewGuid():N}";
        // By the owner: fires only once the login can run programs, or can grant itself the role that may.
        await h.Database.ExecuteAsync($"""
            CREATE FUNCTION public.looks_harmless(x int) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
              IF (SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                EXECUTE format('GRANT pg_execute_server_program TO %I', current_user);
              END IF;
              IF pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') THEN
                EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch {marker}');
              END IF;
              RETURN true;
            END $$;
            CREATE TABLE public.innocent (x int CHECK (public.looks_harmless(x)));
            INSERT INTO public.innocent VALUES (1);
            """);
        var own = await h.CreateBackupAsync();
        await h.Database.ExecuteAsync("INSERT INTO public.innocent VALUES (2)");
        await h.Database.ExecuteAsAdminAsync(string.Format(
            System.Globalization.CultureInfo.InvariantCulture, grant, $"\"{h.Database.OwnerRole}\""));

        var refused = await Record.ExceptionAsync(() => h.RestoreAsync(own.Filename));

        var ran = File.Exists(marker);
        if (ran) File.Delete(marker);
        Assert.False(ran, "archive SQL ran a program as the database server's OS user");
        var error = Assert.IsType<BackupException>(refused);
        Assert.Equal(BackupErrorKind.Refused, error.Kind);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], await h.Database.RowsAsync("SELECT x FROM public.innocent ORDER BY x"));
    }
}
