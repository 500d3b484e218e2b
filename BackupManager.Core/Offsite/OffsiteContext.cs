using System.Security.Cryptography;
using System.Text;
using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Destinations;
using BackupManager.Core.IO;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Offsite;

/// <summary>
/// What the parts of <see cref="OffsiteService"/> share: the configured destinations and how to open them, the
/// per-destination lock, the state file, the age recipients and the installation's naming key.
/// </summary>
internal sealed class OffsiteContext(BackupOptions options, IBackupStore store, TimeProvider time, ILogger logger,
    Func<string, DestinationOptions, IDestinationStorage> open)
{
    public const string NamingKeyFileName = ".offsite-naming-key";

    public BackupOptions Options { get; } = options;
    public IBackupStore Store { get; } = store;
    public TimeProvider Time { get; } = time;
    // One logger (OffsiteService's category) for every part, so the log reads as before the split.
    public ILogger Logger { get; } = logger;
    public OffsiteStateFile State { get; } = new(store.Directory);
    public IReadOnlyList<AgeRecipient> Recipients { get; } =
        options.Encryption.Recipients.Select(AgeRecipient.Parse).ToList();

    public IReadOnlyList<string> DestinationNames =>
        Options.Destinations.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>The configured spelling and options of destination <paramref name="name"/>; NotFound, with what is
    /// configured, otherwise.</summary>
    public (string Name, DestinationOptions Options) Destination(string name) =>
        Options.Destinations.TryGetValue(name, out var d)
            ? (Options.Destinations.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)), d)
            : throw new BackupException(BackupErrorKind.NotFound, DestinationNames.Count == 0
                ? $"There is no destination named '{name}': none is configured. Add one with "
                    + $"Backup__Destinations__<name>__Type (s3, sftp or folder)."
                : $"There is no destination named '{name}'. Configured: {string.Join(", ", DestinationNames)}.");

    public IDestinationStorage Open(string name, DestinationOptions options) => open(name, options);

    public bool Encrypts(DestinationOptions options) => Recipients.Count > 0;

    /// <summary>The local backups a destination should receive: not there yet, and kept by its retention among
    /// everything it would hold.</summary>
    public IEnumerable<BackupInfo> Wanted(IReadOnlyList<BackupInfo> local, IEnumerable<BackupInfo> held,
        DestinationOptions options)
    {
        var heldNames = held.Select(h => h.Filename).ToHashSet(StringComparer.Ordinal);
        var missing = local.Where(b => !heldNames.Contains(b.Filename)).ToList();
        var kept = OffsiteRetention.Kept(held.Concat(missing), options, Options.KeepSafetyDays, Time.GetUtcNow());
        return missing.Where(b => kept.ContainsKey(b.Filename));
    }

    /// <summary>Serialises copy, check and sweep of one destination across processes (advisory lock on a file in the
    /// backup folder).</summary>
    public IDisposable DestinationLock(string name)
    {
        var path = Path.Combine(Store.Directory, $".offsite-{name.ToLowerInvariant()}.lock");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try { return new FileStream(path,
                PrivateFiles.Create(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(250); }
            catch (IOException e)
            {
                throw new BackupException(BackupErrorKind.Busy,
                    $"Another process is copying to or checking {name}. Try again when it has finished.", e);
            }
        }
    }

    public string NamingKeyPath => Path.Combine(Store.Directory, NamingKeyFileName);

    /// <summary>The installation's naming key (32 random bytes, hex, 0600 in the backup folder), made at first
    /// use.</summary>
    public byte[] NamingKey()
    {
        var path = NamingKeyPath;
        if (!File.Exists(path))
        {
            var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            AtomicFile.WriteAllBytes(temp,
                Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));
            try { File.Move(temp, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(temp); }
        }
        try { return Convert.FromHexString(File.ReadAllText(path).Trim()) is { Length: 32 } key
            ? key : throw new FormatException(); }
        catch (FormatException)
        {
            throw new BackupException(BackupErrorKind.Environment,
                $"The off-site naming key {path} is damaged. Delete it: a new one is made, and the next copy to each "
                + $"destination sends everything once more.");
        }
    }
}
