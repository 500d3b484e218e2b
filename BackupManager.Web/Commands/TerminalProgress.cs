using BackupManager.Core;

namespace BackupManager.Web.Commands;

/// <summary>Shows progress on stderr: on a terminal one live line a few times a second; otherwise each phase once,
/// timestamped.</summary>
public sealed class TerminalProgress : IProgress<BackupProgress>
{
    private readonly bool _enabled = !Console.IsErrorRedirected;
    private DateTime _last = DateTime.MinValue;
    private string _lastPhase = "";
    private readonly HashSet<string> _logged = [];

    public void Report(BackupProgress value)
    {
        if (!_enabled)
        {
            // Without a terminal (cron, CI, a log file): each phase once, timestamped, so the log shows where time
            // went.
            if (_logged.Add(value.Phase)) Console.Error.WriteLine(
                $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {value.Phase}");
            return;
        }
        var now = DateTime.UtcNow;
        if (value.Phase == _lastPhase && now - _last < TimeSpan.FromMilliseconds(200)) return;
        _last = now;
        _lastPhase = value.Phase;
        var percent = value.Fraction is { } f ? $" {f:P0}" : "";
        var line = $"{value.Phase}{percent}";
        Console.Error.Write("\r" + line.PadRight(Math.Min(Console.BufferWidth > 0
            ? Console.BufferWidth - 1 : 79, 100)));
    }

    public void Done()
    {
        if (_enabled && _lastPhase.Length > 0) Console.Error.WriteLine();
    }
}
