using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// An archive crafted elsewhere is never trusted with more rights than the database's owner has: over a superuser
/// connection, the restore's SQL runs as the owner, so a CHECK constraint whose function runs COPY … TO PROGRAM
/// during the data load cannot run a shell command as the database server's user.
/// </summary>
public sealed class CraftedArchiveTests
{
    [Fact]
    public async Task A_check_constraint_that_runs_copy_to_program_cannot_run_it_when_restored_over_a_superuser_connection()
    {
        // The clinic as deployed, but BackupManager connected as the superuser (what run.sh used to do).
        var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        await using var h = await EngineHarness.CreateAsync(database: database, connectionString: TestPostgres.With(TestPostgres.AdminConnectionString, database.Name));
        var marker = $"/tmp/bm-pwned-{Guid.NewGuid():N}";
        // Crafted elsewhere: the function acts only when restored (the session that makes the archive switches it off).
        await database.ExecuteAsAdminAsync($"""
            CREATE FUNCTION public.looks_harmless(x int) RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN
              IF coalesce(current_setting('bm.armed', true), 'on') <> 'off' THEN
                COPY (SELECT 1) TO PROGRAM 'touch {marker}';
              END IF;
              RETURN true;
            END $$;
            CREATE TABLE public.innocent (x int CHECK (public.looks_harmless(x)));
            SET bm.armed = 'off';
            INSERT INTO public.innocent VALUES (1);
            """);
        var crafted = await h.CreateBackupAsync();
        Assert.False(File.Exists(marker));
        await database.ExecuteAsAdminAsync("DROP TABLE public.innocent; DROP FUNCTION public.looks_harmless(int); CREATE TABLE public.live (id int); INSERT INTO public.live VALUES (42);");

        var error = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(crafted.Filename));

        Assert.False(File.Exists(marker), "the archive ran a shell command as the database server's user");
        Assert.Contains("nothing was changed", error.Message);
        Assert.Contains("pg_execute_server_program", error.Message); // pg_restore's own reason, carried into the message
        Assert.Equal(["42"], await database.RowsAsync("SELECT id FROM public.live", asAdmin: true));
        Assert.Equal([database.Name], await database.DatabasesLikeAsync());
    }
}
