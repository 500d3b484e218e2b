namespace BackupManager.Core;

/// <summary>
/// A failure that is safe to show to an administrator: the message says what happened, why, and what to do next.
/// Anything else that escapes the engine is a bug.
/// </summary>
public sealed class BackupException(BackupErrorKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public BackupErrorKind Kind { get; } = kind;
}
