using System.Collections.Concurrent;
using BackupManager.Core.Offsite.Destinations;

namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// The faults the <see cref="FaultyDestination"/>s of one test inject, and the calls they saw. One plan serves every
/// destination the product opens (it opens one per operation), so a test arms a fault once and it strikes wherever the
/// product is.
/// </summary>
public sealed class FaultPlan
{
    /// <summary>What injected failures say, so a test can find it in the product's messages.</summary>
    public const string FailureText = "connection reset by peer (injected)";
    private readonly ConcurrentQueue<DestinationFault> _faults = new();
    private readonly ConcurrentQueue<(DestinationCall Call, string Key)> _calls = new();

    public IReadOnlyList<(DestinationCall Call, string Key)> Calls => [.. _calls];

    /// <summary>The <paramref name="nth"/> call of <paramref name="call"/> (on a matching key) fails like a network
    /// error: a <see cref="DestinationException"/> around an <see cref="IOException"/>.</summary>
    public FaultPlan FailOn(DestinationCall call, int nth = 1, Func<string, bool>? key = null) =>
        Add(new(FaultKind.Fail, call, key ?? Any, nth, 0));

    /// <summary>Matching calls wait until their cancellation token is cancelled (a server that stopped
    /// answering).</summary>
    public FaultPlan Stall(DestinationCall call, Func<string, bool>? key = null) =>
        Add(new(FaultKind.Stall, call, key ?? Any, 0, 0));

    /// <summary>Matching puts store only the first <paramref name="keep"/> bytes, and the destination accepts them (a
    /// server that lost the end of an upload).</summary>
    public FaultPlan TruncateWrites(Func<string, bool> key, long keep) =>
        Add(new(FaultKind.TruncateWrite, DestinationCall.Put, key, 0, keep));

    /// <summary>Matching reads end after <paramref name="keep"/> bytes.</summary>
    public FaultPlan TruncateReads(Func<string, bool> key, long keep) =>
        Add(new(FaultKind.TruncateRead, DestinationCall.Read, key, 0, keep));

    /// <summary>Matching reads give the byte at <paramref name="offset"/> inverted.</summary>
    public FaultPlan FlipByteOnRead(Func<string, bool> key, long offset) =>
        Add(new(FaultKind.FlipByteOnRead, DestinationCall.Read, key, 0, offset));

    /// <summary>Removes every fault: the destinations behave again.</summary>
    public void Heal() => _faults.Clear();

    /// <summary>Records a call; fails or stalls it if a fault says so, else returns the fault that spoils its bytes (or
    /// null).</summary>
    public async Task<DestinationFault?> StrikeAsync(DestinationCall call, string key, string location,
        CancellationToken cancellationToken)
    {
        _calls.Enqueue((call, key));
        // every fault counts the call, so each one's Nth is its own
        var fault = _faults.Where(f => f.Strikes(call, key)).ToList().FirstOrDefault();
        switch (fault?.Kind)
        {
            case FaultKind.Fail:
                throw new DestinationException($"faulty: could not {call.ToString().ToLowerInvariant()} {key} at "
                    + $"{location}: {FailureText}", new IOException(FailureText));
            case FaultKind.Stall:
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                break;
        }
        return fault;
    }

    private static bool Any(string key) => true;

    private FaultPlan Add(DestinationFault fault)
    {
        _faults.Enqueue(fault);
        return this;
    }
}
