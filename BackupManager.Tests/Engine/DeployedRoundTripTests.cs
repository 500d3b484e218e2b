using BackupManager.Core;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Backup and restore as deployed, both as a non-superuser owner role with CREATEDB (the documented deployment) and as
/// the superuser: two schemas, a second role with grants, a large object, database-level state and file metadata all
/// come back exactly.
/// </summary>
public sealed class DeployedRoundTripTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_restore_brings_back_data_grants_database_level_state_and_file_metadata(bool asSuperuser)
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: !asSuperuser);
        var reader = await DeployedClinic.SeedAsync(h);
        var backedUp = await DeployedClinic.CaptureAsync(h, reader);
        var backup = await h.CreateBackupAsync();

        await DeployedClinic.ChangeAsync(h, reader);
        Assert.NotEqual(backedUp, await DeployedClinic.CaptureAsync(h, reader));

        var result = await h.RestoreAsync(backup.Filename);
        var restored = await DeployedClinic.CaptureAsync(h, reader);

        if (asSuperuser)
        {
            Assert.Equal(backedUp.ToString(), restored.ToString());
            Assert.Empty(result.Warnings);
        }
        else
        {
            // Only a superuser may set work_mem for another role: the one thing the owner cannot restore is named, with
            // its statement.
            var perRole = $"setting {reader}|{{work_mem=8MB}}";
            Assert.Contains(perRole, backedUp.Database);
            Assert.Equal(backedUp.ToString().Replace(perRole + "\n", ""), restored.ToString());
            var warning = Assert.Single(result.Warnings);
            Assert.Contains($"ALTER ROLE \"{reader}\" IN DATABASE \"{h.Database.Name}\" SET \"work_mem\" TO '8MB';",
                warning);
        }
        Assert.Equal([h.Database.Name], await h.Database.DatabasesLikeAsync());
    }

    [Fact]
    public async Task The_manifest_and_db_roles_sql_record_the_roles_without_passwords()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        var reader = await DeployedClinic.SeedAsync(h);
        var backup = await h.CreateBackupAsync();
        var manifest = (await h.Engine.VerifyAsync(backup.Filename)).Manifest;

        var roles = manifest.Database!.Roles!.Select(r => r.Name).ToList();
        Assert.Contains(h.Database.OwnerRole!, roles);
        Assert.Contains(reader, roles);
        Assert.Equal("Pacific/Auckland", manifest.Database.State!.Settings.Single(s => s.Name == "TimeZone").Value);
        Assert.Contains(h.EntriesOf(backup.Filename), e => e.Path == "db/roles.sql");

        var (exit, script) = StockReaders.Run("unzip", "-p", h.PathOf(backup.Filename), "db/roles.sql");
        Assert.Equal(0, exit);
        Assert.Contains($"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{reader}')\\gexec", script);
        Assert.DoesNotContain("PASSWORD '", script.Replace("PASSWORD '...'", ""));
    }

    [Fact]
    public async Task A_role_the_restore_creates_gets_no_membership_in_a_role_the_server_already_had()
    {
        await using var h = await EngineHarness.CreateAsync(); // the superuser connection, which could grant anything
        await h.SeedAsync();
        var reader = h.Database.NewRoleName("r");
        await h.Database.ExecuteAsAdminAsync(
            $"CREATE ROLE \"{reader}\" NOLOGIN; GRANT pg_read_all_data TO \"{reader}\"; GRANT SELECT ON patients TO " +
            $"\"{reader}\";");
        var backup = await h.CreateBackupAsync();
        await h.Database.ExecuteAsAdminAsync($"REVOKE SELECT ON patients FROM \"{reader}\"; DROP ROLE \"{reader}\";");

        var result = await h.RestoreAsync(backup.Filename);

        // its own grant came back
        Assert.True(await h.Database.ScalarAsync<bool>(
            $"SELECT has_table_privilege('{reader}', 'patients', 'SELECT')"));
        Assert.False(await h.Database.ScalarAsync<bool>(
            $"SELECT pg_has_role('{reader}', 'pg_read_all_data', 'MEMBER')"));
        Assert.Contains(result.Warnings, w => w.Contains($"GRANT \"pg_read_all_data\" TO \"{reader}\";"));
    }

    [Fact]
    public void A_privilege_that_is_not_a_database_privilege_is_refused_instead_of_becoming_sql()
    {
        var state = new Core.Database.DatabaseState { Owner = "o",
            Acl = [new Core.Database.DatabaseGrant(null, "CONNECT ON DATABASE x TO PUBLIC; DROP TABLE t; --", false)] };
        var error = Assert.Throws<BackupException>(() => state.Statements("x").ToList());
        Assert.Equal(BackupErrorKind.Damaged, error.Kind);
    }
}
