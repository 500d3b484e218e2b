using BackupManager.Core.Offsite.Age;
using BackupManager.Core.Offsite.Storage;
using BackupManager.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackupManager.Core.Offsite;

/// <summary>Where one backup has been copied, per destination.</summary>
public sealed record BackupCopy(string Destination, CopyState State);
