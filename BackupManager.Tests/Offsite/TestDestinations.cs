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
        ?? throw new InvalidOperationException(
            "BACKUPMANAGER_TEST_S3 is not set: run the tests with ./scripts/test.sh, which starts s3rver.");
    private static string Sftp => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_SFTP")
        ?? throw new InvalidOperationException(
            "BACKUPMANAGER_TEST_SFTP is not set: run the tests with ./scripts/test.sh, which starts sshd.");
    public static string SftpHostKey => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_SFTP_HOST_KEY")!;
    public static string SftpClientKey => Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_SFTP_KEY")!;

    public static DestinationOptions Folder(string path) => new() { Type = "folder", Path = path };

    public static DestinationOptions S3(string? prefix = null) => new()
    {
        Type = "s3", ServiceUrl = S3Url, Region = "us-east-1", Bucket = "backups", Prefix = prefix ?? "t-"
            + Guid.NewGuid().ToString("N")[..10],
        AccessKeyId = "S3RVER", SecretAccessKey = "S3RVER", ForcePathStyle = true,
    };

    public static DestinationOptions SftpAt(string path) => new()
    {
        Type = "sftp", Host = Sftp.Split(':')[0], Port = int.Parse(Sftp.Split(':')[1]), Username = "root",
        PrivateKeyFile = SftpClientKey, HostKeySha256 = SftpHostKey, Path = path,
    };

    /// <summary>A destination of <paramref name="kind"/> for one test, with its folder (for folder and sftp) under
    /// <paramref name="folder"/>.</summary>
    public static DestinationOptions Of(string kind, TestFolder folder) => kind switch
    {
        "folder" => Folder(folder.Sub("offsite")),
        "s3" => S3(),
        "sftp" => SftpAt(folder.Sub("sftp-root")),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>An age key pair made by the stock age-keygen: the identity file and its recipient.</summary>
    public static (string IdentityFile, string Recipient) Key(TestFolder folder) => StockAge.KeyPair(folder.Path);

    public static IReadOnlyList<AgeIdentity> Identities(string identityFile) =>
        AgeIdentity.ParseFile(File.ReadAllText(identityFile));
}

/// <summary>The destination settings are checked at start, each message naming the setting and what to put
/// there.</summary>
public sealed class DestinationOptionsTests
{
    private static IReadOnlyList<string> Errors(Action<BackupManager.Core.BackupOptions> configure)
    {
        var options = new BackupManager.Core.BackupOptions { Directory = "/var/backups/clinic" };
        configure(options);
        var result = new BackupManager.Core.BackupOptionsValidator().Validate(null, options);
        return result.Failures?.ToList() ?? [];
    }

    [Fact]
    public void A_remote_destination_needs_recipients_unless_unencrypted_is_allowed_and_then_health_warns()
    {
        var s3 = new DestinationOptions { Type = "s3", Bucket = "b", Region = "eu-west-1", AccessKeyId = "k",
            SecretAccessKey = "s" };
        Assert.Contains(Errors(o => o.Destinations["cloud"] = s3), e =>
            e.StartsWith(
            "Backup__Destinations__cloud is a remote destination but Backup__Encryption__Recipients is empty"));
        s3.AllowUnencrypted = true;
        Assert.Empty(Errors(o => o.Destinations["cloud"] = s3));
        // A folder (a USB disk in the clinic's safe) may be unencrypted without saying so.
        Assert.Empty(Errors(o => o.Destinations["usb"] = new DestinationOptions { Type = "folder",
            Path = "/mnt/usb" }));
    }

    [Fact]
    public void Pieces_at_once_must_be_from_1_to_32()
    {
        DestinationOptions Usb(int parallel) => new() { Type = "folder", Path = "/mnt/usb", Parallel = parallel };
        var errors = Errors(o => { o.Destinations["none"] = Usb(0); o.Destinations["many"] = Usb(33); });
        Assert.Equal(["Backup__Destinations__many__Parallel=33 must be from 1 to 32",
            "Backup__Destinations__none__Parallel=0 must be from 1 to 32"],
            errors.Select(e => e[..e.IndexOf(" (", StringComparison.Ordinal)]).Order(StringComparer.Ordinal));
        Assert.Empty(Errors(o => { o.Destinations["one"] = Usb(1); o.Destinations["most"] = Usb(32); }));
    }

    [Fact]
    public void Bad_types_paths_fingerprints_and_retention_are_each_named()
    {
        var errors = Errors(o =>
        {
            o.Encryption.Recipients = [AgeIdentity.Generate().Recipient.Text];
            o.Destinations["x"] = new DestinationOptions { Type = "ftp" };
            o.Destinations["inside"] = new DestinationOptions { Type = "folder", Path = "/var/backups/clinic/offsite" };
            o.Destinations["nas"] = new DestinationOptions { Type = "sftp", Host = "h", Username = "u", Password = "p",
                Path = "b", HostKeySha256 = "SHA256:abc", TimeoutSeconds = 0 };
            o.Destinations["keepnone"] = new DestinationOptions { Type = "folder", Path = "/mnt/usb", KeepDaily = 0,
                KeepWeekly = 0, KeepMonthly = 0 };
        });
        Assert.Contains(errors, e => e.StartsWith("Backup__Destinations__x__Type='ftp' must be s3, sftp or folder"));
        Assert.Contains(errors, e => e.Contains(
            "Backup__Destinations__inside__Path=/var/backups/clinic/offsite is inside or around the backup folder"));
        Assert.Contains(errors, e => e.StartsWith(
            "Backup__Destinations__nas__HostKeySha256 must be the server's host key fingerprint"));
        Assert.Contains(errors, e => e.StartsWith(
            "Backup__Destinations__nas__TimeoutSeconds=0 must be from 1 to 3600"));
        Assert.Contains(errors, e => e.StartsWith("Backup__Destinations__keepnone__KeepDaily/KeepWeekly/KeepMonthly"));
        Assert.Equal(5, errors.Count);
    }
}
