using BackupManager.Core.Archive;

namespace BackupManager.Core.Engine;

/// <summary>
/// Reads a new, sealed archive back in full (<see cref="BackupArchiveReader.ReadBackAsync"/>) before it joins the
/// backup folder, so one that fails is never listed, downloaded, copied off-site or counted by retention.
/// </summary>
internal static class NewArchiveReadBack
{
    /// <summary>Returns once <paramref name="path"/> read back correctly; a failure is a <see cref="BackupException"/>
    /// (Damaged, or Environment for a read error) that says the disk may be failing. The caller deletes the file when
    /// this throws.</summary>
    public static async Task RunAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await BackupArchiveReader.ReadBackAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupException e) when (e.Kind is BackupErrorKind.Damaged or BackupErrorKind.Environment)
        {
            throw Failed(e.Kind, e.Data[BackupArchiveReader.WhyKey] as string ?? e.Message, e);
        }
        catch (IOException e) // a failing disk's usual sign (EIO); its message names the temp file
        {
            var error = e.Message.Replace($" : '{path}'", "", StringComparison.Ordinal)
                .Replace(path, "the new file", StringComparison.Ordinal);
            throw Failed(BackupErrorKind.Environment, $"reading it failed ({error})", e);
        }
    }

    private static BackupException Failed(BackupErrorKind kind, string why, Exception inner) =>
        new(kind, $"The new backup did not read back correctly: {why}. It was not kept and no older backup was "
            + "removed. The disk under the backup folder may be failing: check the system log (dmesg) and the disk's "
            + "health, then try again.", inner);
}
