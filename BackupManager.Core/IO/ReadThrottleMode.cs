namespace BackupManager.Core.IO;

/// <summary>What a <see cref="ReadThrottle"/> does to reading right now.</summary>
public enum ReadThrottleMode
{
    /// <summary>Limited to the busy rate for good: nothing to watch, or watching failed.</summary>
    Fixed,

    /// <summary>Limited to the busy rate: the server serves others, or that is not known yet.</summary>
    Busy,

    /// <summary>Unlimited: the server has been quiet over the signal's last window.</summary>
    Quiet,
}
