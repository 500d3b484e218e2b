using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>The destination contract on a mounted folder.</summary>
public sealed class FolderConformanceTests : DestinationConformanceTests
{
    protected override DestinationOptions Options(TestFolder folder) => TestDestinations.Folder(folder.Sub("offsite"));
}
