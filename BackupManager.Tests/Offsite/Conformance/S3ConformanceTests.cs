using BackupManager.Core.Offsite;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>The destination contract on the S3 test server (s3rver), under a prefix of its own.</summary>
public sealed class S3ConformanceTests : DestinationConformanceTests
{
    protected override DestinationOptions Options(TestFolder folder) => TestDestinations.S3();
}
