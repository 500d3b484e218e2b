using Microsoft.Extensions.Options;
using Npgsql;

namespace BackupManager.Web.Configuration;

/// <summary>
/// Every connection-string setting must parse before anything is built from it: a malformed one ends the web start
/// and every console command with exit code 2 and the setting's name, instead of an unhandled exception.
/// </summary>
public static class ConnectionStringSettings
{
    private static readonly (string Key, string Variable)[] Settings =
    [
        ("ConnectionStrings:Default", "ConnectionStrings__Default"),
        ("ConnectionStrings:Accounts", "ConnectionStrings__Accounts"),
        ("Backup:Database", "Backup__Database"),
    ];

    /// <summary>Throws <see cref="OptionsValidationException"/> naming each setting that does not parse.</summary>
    public static void Validate(IConfiguration configuration)
    {
        var failures = new List<string>();
        foreach (var (key, variable) in Settings)
        {
            var value = configuration[key];
            if (string.IsNullOrWhiteSpace(value)) continue;
            try { _ = new NpgsqlConnectionStringBuilder(value); }
            // The parser's message names the keyword or position, never a value such as the password.
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException
                or OverflowException)
            {
                failures.Add($"{variable} is not a valid PostgreSQL connection string ({e.Message}). "
                    + "Write it as Host=127.0.0.1;Database=clinic;Username=…;Password=… "
                    + "(pairs of key=value separated by ';').");
            }
        }
        if (failures.Count > 0)
            throw new OptionsValidationException("ConnectionStrings", typeof(Core.BackupOptions), failures);
    }
}
