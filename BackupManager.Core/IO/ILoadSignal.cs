namespace BackupManager.Core.IO;

/// <summary>
/// Tells a <see cref="ReadThrottle"/> whether the server a backup reads from is serving other work. Contract: asked
/// every <see cref="ReadThrottle.SampleInterval"/> from one task at a time (never concurrently); answers true (busy)
/// until it has evidence of quiet; throws when it cannot tell at all (the throttle then keeps its fixed rate for the
/// rest of the backup and never asks again). Disposing closes whatever it holds open.
/// </summary>
public interface ILoadSignal : IAsyncDisposable
{
    /// <summary>Takes one sample; true while others use the server, or while that is not known yet.</summary>
    ValueTask<bool> IsBusyAsync(CancellationToken cancellationToken);
}
