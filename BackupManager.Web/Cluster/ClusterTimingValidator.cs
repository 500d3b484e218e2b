using BackupManager.Core.Cluster;
using Microsoft.Extensions.Options;

namespace BackupManager.Web.Cluster;

/// <summary>Checks the cluster settings leadership and the operation lock depend on, naming the variable to fix.
/// Nothing is checked while cluster mode is off.</summary>
public sealed class ClusterTimingValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        if (!options.Enabled) return ValidateOptionsResult.Success;
        var failures = new List<string>();
        if (options.HeartbeatSeconds is < 1 or > 30)
            failures.Add($"Backup__Cluster__HeartbeatSeconds is {options.HeartbeatSeconds}; it must be 1 to 30.");
        else if (options.HandoverSeconds < 3 * options.HeartbeatSeconds || options.HandoverSeconds > 120)
            failures.Add($"Backup__Cluster__HandoverSeconds is {options.HandoverSeconds}; it must be at least three "
                + $"heartbeats ({3 * options.HeartbeatSeconds}) and at most 120 (the promise is 30).");
        try
        {
            if (string.IsNullOrWhiteSpace(new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString).Host))
                failures.Add("Backup__Cluster__Enabled is true but there is no database to meet in: set "
                    + "ConnectionStrings__Default (the accounts database is derived from it) or "
                    + "ConnectionStrings__Accounts.");
        }
        catch (ArgumentException e)
        {
            failures.Add($"The accounts connection string cannot be read ({e.Message}); fix "
                + "ConnectionStrings__Accounts.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
