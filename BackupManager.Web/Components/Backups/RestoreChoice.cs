using BackupManager.Core;

namespace BackupManager.Web.Components.Backups;

/// <summary>What the restore dialog was confirmed with: the scope, and for a foreign backup the explicit extra
/// confirmation.</summary>
public sealed record RestoreChoice(BackupScope Scope, bool AllowForeign);

/// <summary>What the restore-from-destination dialog was confirmed with; <see cref="Identity"/> lives only until the
/// fetch is done.</summary>
public sealed record RestoreFromChoice(string Destination, string Filename, string Identity, BackupScope Scope,
    bool AllowForeign)
{
    // never print the identity
    public override string ToString()
        => $"RestoreFromChoice {{ Destination = {Destination}, Filename = {Filename}, Scope = {Scope} }}";
}
