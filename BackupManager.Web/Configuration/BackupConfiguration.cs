using System.Globalization;
using BackupManager.Core;

namespace BackupManager.Web.Configuration;

/// <summary>Reads the engine's settings from configuration, including the historical root key MAX_BACKUPS.</summary>
public static class BackupConfiguration
{
    public static void Bind(IConfiguration configuration, BackupOptions options)
    {
        try
        {
            configuration.GetSection(BackupOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and value; wrap it so the host prints it as a configuration error.
            throw new Microsoft.Extensions.Options.OptionsValidationException(BackupOptions.SectionName,
                typeof(BackupOptions),
                [$"A Backup setting has a value of the wrong type: {e.InnerException?.Message ?? e.Message}"]);
        }
        var maxBackups = configuration["MAX_BACKUPS"];
        if (!string.IsNullOrWhiteSpace(maxBackups))
        {
            if (int.TryParse(maxBackups.Trim(), NumberStyles.None, CultureInfo.InvariantCulture,
                out var value)) options.MaxBackups = value;
            else options.InvalidMaxBackups = maxBackups;
        }
    }

    /// <summary>The database the engine backs up: Backup:Database when set, else the application's own.</summary>
    public static string? DatabaseConnectionString(IConfiguration configuration)
    {
        var specific = configuration["Backup:Database"];
        return string.IsNullOrWhiteSpace(specific) ? configuration.GetConnectionString("Default") : specific;
    }
}
