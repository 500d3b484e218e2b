using Microsoft.Extensions.Options;

namespace BackupManager.Core;

/// <summary>Checks <see cref="BackupOptions"/> at start so a bad setting stops the program with a message that names
/// it.</summary>
public sealed class BackupOptionsValidator : IValidateOptions<BackupOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupOptions options)
    {
        var errors = new List<string>();
        if (options.InvalidMaxBackups is not null)
            errors.Add($"MAX_BACKUPS='{options.InvalidMaxBackups}' is not a whole number. Set it to how many backups "
                + $"to keep, e.g. MAX_BACKUPS=10.");
        else if (options.MaxBackups < 1)
            errors.Add($"MAX_BACKUPS={options.MaxBackups} must be at least 1.");
        if (string.IsNullOrWhiteSpace(options.Directory))
            errors.Add("Backup__Directory is not set. Set it to the folder where backup archives are kept.");
        if (options.KeepWeekly < 0)
            errors.Add($"Backup__KeepWeekly={options.KeepWeekly} must be 0 or more.");
        if (options.KeepSafetyDays < 0)
            errors.Add($"Backup__KeepSafetyDays={options.KeepSafetyDays} must be 0 or more.");
        if (options.DumpCompressionLevel is < 0 or > 9)
            errors.Add($"Backup__DumpCompressionLevel={options.DumpCompressionLevel} must be from 0 (store) to 9 "
                + $"(smallest); 1 is the fast default.");
        if (options.RestoreJobs is < 0 or > 32)
            errors.Add($"Backup__RestoreJobs={options.RestoreJobs} must be from 0 (one per core) to 32.");
        if (!string.IsNullOrWhiteSpace(options.RestoreConnection))
        {
            try
            {
                if (string.IsNullOrEmpty(new Npgsql.NpgsqlConnectionStringBuilder(options.RestoreConnection).Username))
                    errors.Add("Backup__RestoreConnection names no user. Add Username=<the database's "
                        + "owner>;Password=… to it.");
            }
            catch (ArgumentException e)
            {
                errors.Add($"Backup__RestoreConnection is not a valid connection string ({e.Message}). "
                    + "Set it like Host=127.0.0.1;Username=<the database's owner>;Password=….");
            }
        }
        if (options.CommandTimeout <= TimeSpan.Zero)
            errors.Add($"Backup__CommandTimeout={options.CommandTimeout} must be positive (e.g. 06:00:00).");

        var rootNames = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Paths.Count; i++)
        {
            var path = options.Paths[i];
            var rootName = FileRoot.NameOf(path);
            if (string.IsNullOrWhiteSpace(path) || rootName.Length == 0)
                errors.Add($"Backup__Paths__{i}='{path}' is not a folder path with a name (the file system root "
                    + $"cannot be backed up).");
            else if (rootNames.TryGetValue(rootName, out var other))
                errors.Add($"Backup__Paths__{i}='{path}' and '{other}' end in the same folder name '{rootName}'; each "
                    + $"backed-up folder needs a distinct name.");
            else
                rootNames[rootName] = path;
        }
        foreach (var pattern in options.Exclude)
            if (string.IsNullOrWhiteSpace(pattern))
                errors.Add("Backup__Exclude contains an empty pattern.");

        foreach (var (setting, value) in new[] { ("Backup__ScheduledPriority", options.ScheduledPriority),
            ("Backup__ManualPriority", options.ManualPriority) })
            if (BackupPriorities.Parse(value, BackupPriority.Normal) is null)
                errors.Add($"{setting}='{value}' must be low (the backup yields to the clinic's database) or normal "
                    + $"(as fast as possible).");
        if (options.LowPriorityBytesPerSecond < 1 << 20)
            errors.Add($"Backup__LowPriorityBytesPerSecond={options.LowPriorityBytesPerSecond} must be at least "
                + $"1048576 (1 MiB/s); the default is 10485760 (10 MiB/s).");
        if (!(options.LowPriorityBusyTransactionsPerSecond > 0) || double.IsInfinity(
            options.LowPriorityBusyTransactionsPerSecond))
            errors.Add($"Backup__LowPriorityBusyTransactionsPerSecond={options.LowPriorityBusyTransactionsPerSecond} "
                + "must be a number above 0; the default is 50 (transactions per second by others).");
        Offsite.DestinationOptionsValidator.Validate(options, errors);
        Pitr.PitrOptionsValidator.Validate(options.Pitr, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
