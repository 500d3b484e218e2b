using BackupManager.Core.Offsite;
using BackupManager.Core.Offsite.Age;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Offsite;

/// <summary>
/// Destinations on the real servers the test command starts on 127.0.0.1 (s3rver, OpenSSH's sftp), or a folder; each
/// test gets its own prefix or path, so tests never see each other's objects.
/// </summary>
public static class TestDestinations
{
    public static string S3Url => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_S3")
        ?? throw new InvalidOperationException("BACKUPMANAGER_TEST_S3 is not set: run the tests with ./scripts/test.sh, which starts s3rver.");
    private static string Sftp => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_SFTP")
        ?? throw new InvalidOperationException("BACKUPMANAGER_TEST_SFTP is not set: run the tests with ./scripts/test.sh, which starts sshd.");
    public static string SftpHostKey => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_SFTP_HOST_KEY")!;
    public static string SftpClientKey => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_SFTP_KEY")!;

    public static DestinationOptions Folder(string path) => new() { Type = "folder", Path = path };

    public static DestinationOptions S3(string? prefix = null) => new()
    {
        Type = "s3", ServiceUrl = S3Url, Region = "us-east-1", Bucket = "backups", Prefix = prefix ?? "t-" + Guid.NewGuid().ToString("N")[..10],
        AccessKeyId = "S3RVER", SecretAccessKey = "S3RVER", ForcePathStyle = true,
    };

    public static DestinationOptions SftpAt(string path) => new()
    {
        Type = "sftp", Host = Sftp.Split(':')[0], Port = int.Parse(Sftp.Split(':')[1]), Username = "root",
        PrivateKeyFile = SftpClientKey, HostKeySha256 = SftpHostKey, Path = path,
    };

    /// <summary>A destination of <paramref name="kind"/> for one test, with its folder (for folder and sftp) under <paramref name="folder"/>.</summary>
    public static DestinationOptions Of(string kind, TestFolder folder) => kind switch
    {
        "folder" => Folder(folder.Sub("offsite")),
        "s3" => S3(),
        "sftp" => SftpAt(folder.Sub("sftp-root")),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>An age key pair made by the stock age-keygen: the identity file and its recipient.</summary>
    public static (string IdentityFile, string Recipient) Key(TestFolder folder) => StockAge.KeyPair(folder.Path);

    public static IReadOnlyList<AgeIdentity> Identities(string identityFile) => AgeIdentity.ParseFile(File.ReadAllText(identityFile));
}
