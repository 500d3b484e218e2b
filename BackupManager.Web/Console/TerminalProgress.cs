using BackupManager.Core;

namespace BackupManager.Web.Console;

/// <summary>Shows progress on stderr when it is a terminal, at most a few times a second; silent otherwise.</summary>
public sealed class TerminalProgress : IProgress<BackupProgress>
{
    private readonly bool _enabled = !System.Console.IsErrorRedirected;
    private DateTime _last = DateTime.MinValue;
    private string _lastPhase = "";

    public void Report(BackupProgress value)
    {
        if (!_enabled) return;
        var now = DateTime.UtcNow;
        if (value.Phase == _lastPhase && now - _last < TimeSpan.FromMilliseconds(200)) return;
        _last = now;
        _lastPhase = value.Phase;
        var percent = value.Fraction is { } f ? $" {f:P0}" : "";
        var line = $"{value.Phase}{percent}";
        System.Console.Error.Write("\r" + line.PadRight(Math.Min(System.Console.BufferWidth > 0 ? System.Console.BufferWidth - 1 : 79, 100)));
    }

    public void Done()
    {
        if (_enabled && _lastPhase.Length > 0) System.Console.Error.WriteLine();
    }
}
