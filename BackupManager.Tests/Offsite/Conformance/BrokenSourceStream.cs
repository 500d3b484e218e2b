using BackupManager.Core.IO;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// A source for a put that gives the first <paramref name="breakAt"/> bytes of <paramref name="content"/>, then breaks
/// off: it throws an <see cref="IOException"/> (a disk or pipe that failed), or, given <paramref name="stallUntil"/>,
/// stalls until that token is cancelled and then throws <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class BrokenSourceStream(byte[] content, int breakAt, CancellationToken? stallUntil = null)
    : ReadOnlyStream
{
    private int _position;

    /// <summary>Set once the stream has handed out every byte it will give.</summary>
    public TaskCompletionSource Broke { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override int Read(Span<byte> buffer)
    {
        if (_position >= breakAt) BreakOff().GetAwaiter().GetResult();
        var n = Math.Min(buffer.Length, breakAt - _position);
        content.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= breakAt) await BreakOff().ConfigureAwait(false);
        var n = Math.Min(buffer.Length, breakAt - _position);
        content.AsMemory(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    private async Task BreakOff()
    {
        Broke.TrySetResult();
        if (stallUntil is not { } token) throw new IOException("the source broke off after " + breakAt + " bytes");
        await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
    }
}
