using System.Threading.Channels;

namespace BackupManager.Core;

/// <summary>
/// Tells this process's off-site copier that a backup was committed to the folder, so the copy starts at once instead
/// of at the next poll. Contract: <see cref="Raise"/> never blocks and never throws; a burst of commits may wake the
/// listener once. Backups committed by another process (a console command) are not seen here: the copier's slow poll
/// finds those.
/// </summary>
public sealed class BackupCommitted
{
    // Only "something was committed" matters; the copier derives what to send from the folder itself.
    private readonly Channel<string> _commits = Channel.CreateBounded<string>(new BoundedChannelOptions(16)
    {
        FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true,
    });

    /// <summary>Announces <paramref name="filename"/>, just committed.</summary>
    public void Raise(string filename) => _commits.Writer.TryWrite(filename);

    /// <summary>
    /// Waits until a backup is committed or <paramref name="timeout"/> passes; returns true when a commit woke it.
    /// Announcements already waiting count (and are consumed), so a commit during a copy round is not missed.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await _commits.Reader.WaitToReadAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        while (_commits.Reader.TryRead(out _)) { }
        return true;
    }
}
