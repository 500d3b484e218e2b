namespace BackupManager.Core;

/// <summary>What an archive holds; the values are the strings used in manifests, the API and the page.</summary>
public static class BackupContents
{
    public const string Database = "database";
    public const string Files = "files";
}
