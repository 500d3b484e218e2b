using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Commands;

/// <summary>
/// The account commands, run as separate processes of the real executable: users and tokens without any default
/// password, and accounts kept apart from the database that is backed up.
/// </summary>
public sealed class AccountCommandTests
{
    [Fact]
    public async Task Accounts_may_not_be_kept_in_the_database_that_is_backed_up()
    {
        await using var h = await EngineHarness.CreateAsync();
        var env = AppProcess.EnvironmentFor(h);
        env["ConnectionStrings__Accounts"] = h.Database.ConnectionString;

        var result = await AppProcess.RunAsync(env, null, "app:list-backups");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ConnectionStrings__Accounts names the database that is backed up", result.Stderr);
    }

    [Fact]
    public async Task Account_commands_create_users_and_tokens_without_any_default_password()
    {
        await using var h = await EngineHarness.CreateAsync();
        var env = AppProcess.EnvironmentFor(h);

        var admin = await AppProcess.RunAsync(
            env, "a-long-enough-passphrase\n", "app:create-admin", "dr.martin@clinic.test");
        Assert.True(admin.ExitCode == 0, admin.Stderr);
        var duplicate = await AppProcess.RunAsync(
            env, "another-long-passphrase\n", "app:create-admin", "dr.martin@clinic.test");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Stderr);
        var weak = await AppProcess.RunAsync(env, "short\n", "app:create-user", "reception@clinic.test");
        Assert.Equal(1, weak.ExitCode);
        Assert.Contains("at least 12 characters", weak.Stderr);

        var token = await AppProcess.RunAsync(
            env, null, "app:create-token", "dr.martin@clinic.test", "--name", "nightly");
        Assert.Equal(0, token.ExitCode);
        Assert.Matches("^bm_[A-Za-z0-9]{40}$", token.Stdout.Trim());
        var listed = await AppProcess.RunAsync(env, null, "app:list-tokens");
        Assert.Contains("nightly", listed.Stdout);
        Assert.DoesNotContain(token.Stdout.Trim(), listed.Stdout);
        var revoked = await AppProcess.RunAsync(env, null, "app:revoke-token", token.Stdout.Trim()[..10]);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Contains("revoked", (await AppProcess.RunAsync(env, null, "app:list-tokens")).Stdout);
    }
}
