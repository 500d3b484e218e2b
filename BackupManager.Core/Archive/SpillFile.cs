namespace BackupManager.Core.Archive;

/// <summary>
/// Scratch files for what grows with the number of files (central directory records, manifest entries), so a backup
/// of a million files needs no more memory than one of a hundred. The name is removed as soon as the file is open:
/// the open handle keeps the data, and a crash leaves nothing behind.
/// </summary>
internal static class SpillFile
{
    public static FileStream Create(string path)
    {
        var stream = new FileStream(path,
            IO.PrivateFiles.Create(FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None));
        try { if (!OperatingSystem.IsWindows()) File.Delete(path); }
        catch
        {
            stream.Dispose();
            throw;
        }
        return stream;
    }
}
