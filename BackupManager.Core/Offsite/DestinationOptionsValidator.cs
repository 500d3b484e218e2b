using BackupManager.Core.Offsite.Age;

namespace BackupManager.Core.Offsite;

/// <summary>Checks the destinations and recipients at start; every message names the setting and says what to put
/// there.</summary>
internal static class DestinationOptionsValidator
{
    public static void Validate(BackupOptions options, List<string> errors)
    {
        for (var i = 0; i < options.Encryption.Recipients.Count; i++)
            if (!AgeRecipient.TryParse(options.Encryption.Recipients[i], out _))
                errors.Add($"Backup__Encryption__Recipients__{i}='{options.Encryption.Recipients[i]}' is not an age "
                    + $"X25519 recipient. Put the age1… line that age-keygen -y prints for the clinic's key.");
        var encrypted = options.Encryption.Recipients.Count > 0;
        foreach (var (name, d) in options.Destinations)
        {
            var key = $"Backup__Destinations__{name}";
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"))
                errors.Add($"{key}: a destination name may have only letters, digits, '-' and '_' (at most 40).");
            if (d.KeepDaily < 0 || d.KeepWeekly < 0 || d.KeepMonthly < 0
                || d.KeepDaily + d.KeepWeekly + d.KeepMonthly == 0)
                errors.Add($"{key}__KeepDaily/KeepWeekly/KeepMonthly must be 0 or more and not all 0 (defaults 14, 8, "
                    + $"12).");
            if (d.KeepLast < 0) errors.Add($"{key}__KeepLast={d.KeepLast} must be 0 or more (default 3).");
            if (d.MaxLagHours < 1) errors.Add($"{key}__MaxLagHours={d.MaxLagHours} must be at least 1 (default 26).");
            if (d.Parallel is < 1 or > 32) errors.Add(
                $"{key}__Parallel={d.Parallel} must be from 1 to 32 (default 4): how many pieces move at once.");
            switch (d.ParsedType)
            {
                case null:
                    errors.Add($"{key}__Type='{d.Type}' must be s3, sftp or folder.");
                    continue;
                case DestinationType.Folder:
                    if (string.IsNullOrWhiteSpace(d.Path) || !System.IO.Path.IsPathRooted(d.Path))
                        errors.Add($"{key}__Path must be the absolute path of the mounted folder (a NAS share or a "
                            + $"USB disk).");
                    else if (options.Directory.Length > 0 && IsInside(d.Path, options.Directory))
                        errors.Add($"{key}__Path={d.Path} is inside or around the backup folder: an off-site copy "
                            + $"must live on another disk.");
                    break;
                case DestinationType.S3:
                    if (string.IsNullOrWhiteSpace(d.Bucket)) errors.Add(
                        $"{key}__Bucket is not set. Set it to the bucket's name.");
                    if (string.IsNullOrWhiteSpace(d.ServiceUrl) && string.IsNullOrWhiteSpace(d.Region))
                        errors.Add($"{key}__ServiceUrl or {key}__Region must be set (the endpoint of an S3-compatible "
                            + $"service, or the AWS region).");
                    if (d.ServiceUrl is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
                        errors.Add($"{key}__ServiceUrl='{url}' is not an absolute URL (e.g. https://s3.example.com).");
                    if (string.IsNullOrWhiteSpace(d.AccessKeyId)) errors.Add($"{key}__AccessKeyId is not set.");
                    if (string.IsNullOrWhiteSpace(d.SecretAccessKey)
                        && string.IsNullOrWhiteSpace(d.SecretAccessKeyFile))
                        errors.Add($"{key}__SecretAccessKey or {key}__SecretAccessKeyFile must be set.");
                    else if (d.SecretAccessKeyFile is { Length: > 0 } file && !File.Exists(file))
                        errors.Add($"{key}__SecretAccessKeyFile={file} does not exist.");
                    break;
                case DestinationType.Sftp:
                    if (string.IsNullOrWhiteSpace(d.Host)) errors.Add($"{key}__Host is not set.");
                    if (d.Port is < 1 or > 65535) errors.Add($"{key}__Port={d.Port} is not a TCP port.");
                    if (string.IsNullOrWhiteSpace(d.Username)) errors.Add($"{key}__Username is not set.");
                    if (d.TimeoutSeconds is < 1 or > 3600) errors.Add($"{key}__TimeoutSeconds={d.TimeoutSeconds} "
                        + $"must be from 1 to 3600 (default 120): how long the server may leave a request unanswered.");
                    if (string.IsNullOrWhiteSpace(d.PrivateKeyFile) && string.IsNullOrEmpty(d.Password))
                        errors.Add($"{key}__PrivateKeyFile (or {key}__Password) must be set.");
                    else if (d.PrivateKeyFile is { Length: > 0 } keyFile && !File.Exists(keyFile))
                        errors.Add($"{key}__PrivateKeyFile={keyFile} does not exist.");
                    if (string.IsNullOrWhiteSpace(d.Path)) errors.Add(
                        $"{key}__Path is not set (the folder on the server, e.g. backups/clinic).");
                    if (!SftpFingerprint.IsWellFormed(d.HostKeySha256))
                        errors.Add($"{key}__HostKeySha256 must be the server's host key fingerprint as `ssh-keygen "
                            + $"-lf <host key>.pub` prints it (SHA256: and 43 base64 characters). "
                            + "Ask the server's administrator, or read it on the server with ssh-keygen -lf "
                                + "/etc/ssh/ssh_host_ed25519_key.pub. A key is never trusted on first use.");
                    break;
            }
            if (d.ParsedType is DestinationType.S3 or DestinationType.Sftp && !encrypted && !d.AllowUnencrypted)
                errors.Add($"{key} is a remote destination but Backup__Encryption__Recipients is empty: set at least "
                    + $"one age recipient (age1…), "
                    + $"or set {key}__AllowUnencrypted=true to send the clinic's data unencrypted (health will warn).");
        }
    }

    private static bool IsInside(string a, string b)
    {
        var x = System.IO.Path.GetFullPath(a).TrimEnd('/') + "/";
        var y = System.IO.Path.GetFullPath(b).TrimEnd('/') + "/";
        return x.StartsWith(y, StringComparison.Ordinal) || y.StartsWith(x, StringComparison.Ordinal);
    }
}
