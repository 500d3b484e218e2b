namespace BackupManager.Tests.Offsite.Conformance;

/// <summary>
/// One fault of a <see cref="FaultyDestination"/>: it strikes the <paramref name="nth"/> call of
/// <paramref name="call"/> whose key matches (0: every one), with <paramref name="amount"/> the bytes kept by a
/// truncation or the offset of a flipped byte.
/// </summary>
public sealed class DestinationFault(FaultKind kind, DestinationCall call, Func<string, bool> matches, int nth,
    long amount)
{
    private int _seen;

    public FaultKind Kind => kind;
    public long Amount => amount;

    /// <summary>Whether this call is struck; counts the matching calls.</summary>
    public bool Strikes(DestinationCall made, string key)
    {
        if (made != call || !matches(key)) return false;
        var seen = Interlocked.Increment(ref _seen);
        return nth == 0 || seen == nth;
    }
}
