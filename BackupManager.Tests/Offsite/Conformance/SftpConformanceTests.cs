using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>The destination contract on the SFTP test server (OpenSSH's internal-sftp), in a folder of its
/// own.</summary>
public sealed class SftpConformanceTests : DestinationConformanceTests
{
    protected override DestinationOptions Options(TestFolder folder) =>
        TestDestinations.SftpAt(folder.Sub("sftp-root"));
}
