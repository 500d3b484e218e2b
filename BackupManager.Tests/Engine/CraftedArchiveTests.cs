using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// An archive crafted elsewhere is never trusted with more rights than the database's owner has: even when
/// BackupManager logs in as a superuser, the restore's SQL logs in as the owner (Backup__RestoreConnection), so a CHECK
/// constraint whose function runs COPY … TO PROGRAM during the data load cannot run a shell command as the database
/// server's user.
/// </summary>
public sealed class CraftedArchiveTests
{
    [Fact]
    public async Task A_check_constraint_running_copy_to_program_cannot_run_when_restored_over_a_superuser_connection()
    {
        // The clinic as deployed, but BackupManager connected as the superuser (what run.sh used to do).
        var database = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        await using var h = await EngineHarness.CreateAsync(database: database,
            connectionString: TestPostgres.With(TestPostgres.AdminConnectionString, database.Name),
            configure: o => o.RestoreConnection = database.ConnectionString);
        var marker = $"/tmp/bm-pwned-{Guid.NewGuid():N}";
        // Crafted elsewhere: the function acts only when restored (the session that makes the archive switches it off).
        await database.ExecuteAsAdminAsync(
            CraftedCheckConstraint.Sql($"COPY (SELECT 1) TO PROGRAM 'touch {marker}';"));
        var crafted = await h.CreateBackupAsync();
        Assert.False(File.Exists(marker));
        await database.ExecuteAsAdminAsync(
            "DROP TABLE public.innocent; DROP FUNCTION public.looks_harmless(int); CREATE TABLE public.live (id " +
            "int); INSERT INTO public.live VALUES (42);");

        var error = await Assert.ThrowsAsync<BackupException>(() => h.RestoreAsync(crafted.Filename));

        Assert.False(File.Exists(marker), "the archive ran a shell command as the database server's user");
        Assert.Contains("nothing was changed", error.Message);
        // pg_restore's own reason, carried into the message
        Assert.Contains("pg_execute_server_program", error.Message);
        Assert.Equal(["42"], await database.RowsAsync("SELECT id FROM public.live", asAdmin: true));
        Assert.Equal([database.Name], await database.DatabasesLikeAsync());
    }

    [Fact]
    public async Task Uploaded_over_http_a_crafted_archive_is_foreign_and_if_confirmed_runs_as_owner_changing_nothing()
    {
        // Made elsewhere, by someone with a superuser connection to their own server.
        var elsewhereDatabase = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        await using var elsewhere = await EngineHarness.CreateAsync(database: elsewhereDatabase,
            connectionString: TestPostgres.With(TestPostgres.AdminConnectionString, elsewhereDatabase.Name));
        var marker = $"/tmp/bm-pwned-{Guid.NewGuid():N}";
        await elsewhereDatabase.ExecuteAsAdminAsync(
            CraftedCheckConstraint.Sql($"COPY (SELECT 1) TO PROGRAM 'touch {marker}';"));
        var crafted = await File.ReadAllBytesAsync(
            elsewhere.PathOf((await elsewhere.CreateBackupAsync(BackupScope.DatabaseOnly)).Filename));

        // The clinic: its database owned by a non-superuser role, but BackupManager connected as the superuser.
        var clinicDatabase = await TestPostgres.CreateDatabaseAsync(asOwnerRole: true);
        var superuser = TestPostgres.With(TestPostgres.AdminConnectionString, clinicDatabase.Name);
        var harness = await EngineHarness.CreateAsync(database: clinicDatabase, connectionString: superuser);
        await using var host = await WebAppHost.StartAsync(harness: harness, settings: s =>
        {
            s["ConnectionStrings:Default"] = superuser;
            s["Backup:RestoreConnection"] = clinicDatabase.ConnectionString;
        });
        await clinicDatabase.ExecuteAsync(
            "CREATE TABLE public.patients (id int); INSERT INTO public.patients VALUES (7);");
        await host.CreateUserAsync("admin@clinic.test", administrator: true);
        var admin = host.Client(await host.CreateTokenAsync("admin@clinic.test"));

        var uploaded = await admin.PostAsync("/api/v1/backups/upload", new ByteArrayContent(crafted));
        var row = System.Text.Json.JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync())
            .RootElement.GetProperty("data");
        Assert.True(row.GetProperty("foreign").GetBoolean());
        var filename = row.GetProperty("filename").GetString()!;
        var unconfirmed = await admin.PostAsync("/api/v1/backups/restore",
            System.Net.Http.Json.JsonContent.Create(new { filename }));
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, unconfirmed.StatusCode);

        var confirmed = await admin.PostAsync("/api/v1/backups/restore",
            System.Net.Http.Json.JsonContent.Create(new { filename, allow_foreign = true }));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, confirmed.StatusCode);
        var job = confirmed.Headers.Location!.OriginalString;
        System.Text.Json.JsonElement state;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            await Task.Delay(200);
            state = System.Text.Json.JsonDocument.Parse(await admin.GetStringAsync(job))
                .RootElement.GetProperty("data");
        } while (state.GetProperty("status").GetString() is "queued" or "running"
            && waited.Elapsed < TimeSpan.FromMinutes(2));

        Assert.Equal("failed", state.GetProperty("status").GetString());
        Assert.Contains("pg_execute_server_program", state.GetProperty("error").GetString());
        Assert.False(File.Exists(marker), "the uploaded archive ran a shell command as the database server's user");
        Assert.Equal(["7"], await clinicDatabase.RowsAsync("SELECT id FROM public.patients"));
        Assert.Equal(clinicDatabase.OwnerRole,
            await clinicDatabase.ScalarAsync<string>(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"));
    }
}
