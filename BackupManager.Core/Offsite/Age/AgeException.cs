namespace BackupManager.Core.Offsite.Age;

/// <summary>An age file could not be decrypted; <see cref="Failure"/> says at which stage.</summary>
public sealed class AgeException(AgeFailure failure, string message) : Exception(message)
{
    public AgeFailure Failure { get; } = failure;
}
