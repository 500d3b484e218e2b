using BackupManager.Core;

namespace BackupManager.Web.Components.Backups;

/// <summary>What the restore-from-destination dialog was confirmed with; <see cref="Identity"/> lives only until the
/// fetch is done.</summary>
public sealed record RestoreFromChoice(string Destination, string Filename, string Identity, BackupScope Scope,
    bool AllowForeign)
{
    // never print the identity
    public override string ToString()
        => $"RestoreFromChoice {{ Destination = {Destination}, Filename = {Filename}, Scope = {Scope} }}";
}
