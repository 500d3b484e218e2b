namespace BackupManager.Core.Pitr;

/// <summary>
/// What <c>backupmanager-base.json</c> records about one base backup: the WAL range it needs (start and end LSN on
/// <see cref="Timeline"/>), when it ran, the server's version and WAL segment size. <see cref="Folder"/> is filled
/// when read.
/// </summary>
public sealed record BaseBackupRecord(string StartLsn, string EndLsn, uint Timeline, DateTimeOffset StartedAt,
    DateTimeOffset EndedAt, string ServerVersion, long WalSegmentBytes)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string Folder { get; init; } = "";

    /// <summary>The folder's name, e.g. 20261206T021500Z.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Name => Path.GetFileName(Folder);

    /// <summary>The base backups in <paramref name="baseFolder"/>, oldest first (folders without a record are
    /// skipped).</summary>
    public static List<BaseBackupRecord> List(string baseFolder)
    {
        if (!Directory.Exists(baseFolder)) return [];
        var records = new List<BaseBackupRecord>();
        foreach (var folder in Directory.EnumerateDirectories(baseFolder))
        {
            var file = Path.Combine(folder, PitrLayout.RecordFileName);
            if (!File.Exists(file)) continue;
            try
            {
                var record = System.Text.Json.JsonSerializer.Deserialize<BaseBackupRecord>(File.ReadAllBytes(file),
                    BackupJson.Options);
                if (record is not null) records.Add(record with { Folder = folder });
            }
            catch (System.Text.Json.JsonException) { /* a damaged record: that base backup is not used */ }
        }
        return records.OrderBy(r => r.StartedAt).ToList();
    }
}
