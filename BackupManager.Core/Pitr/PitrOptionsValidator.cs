namespace BackupManager.Core.Pitr;

/// <summary>Adds a message naming the setting for each bad <see cref="PitrOptions"/> value.</summary>
public static class PitrOptionsValidator
{
    public static void Validate(PitrOptions options, List<string> errors)
    {
        if (options.KeepDays is < 1 or > 3650)
            errors.Add($"Backup__Pitr__KeepDays={options.KeepDays} must be from 1 to 3650 (days a point in time stays "
                + "restorable; the default is 14).");
        if (options.MaxLagSeconds < 1)
            errors.Add($"Backup__Pitr__MaxLagSeconds={options.MaxLagSeconds} must be at least 1 (the default is 60).");
        if (options.MaxSlotRetainedBytes < 16L << 20)
            errors.Add($"Backup__Pitr__MaxSlotRetainedBytes={options.MaxSlotRetainedBytes} must be at least 16777216 "
                + "(one WAL segment); the default is 2147483648 (2 GiB).");
        if (options.OffsitePartialSeconds is < 5 or > 3600)
            errors.Add($"Backup__Pitr__OffsitePartialSeconds={options.OffsitePartialSeconds} must be from 5 to 3600 "
                + "(how often the segment being written goes off-site; the default is 60).");
        if (string.IsNullOrWhiteSpace(options.Connection)) return;
        try { _ = new Npgsql.NpgsqlConnectionStringBuilder(options.Connection); }
        catch (ArgumentException e)
        {
            errors.Add($"Backup__Pitr__Connection is not a valid connection string ({e.Message}). Set it like "
                + "Host=127.0.0.1;Database=clinic;Username=<a role with REPLICATION>;Password=….");
        }
    }
}
