namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// A destination could not be reached or refused an operation; the message is for the operator. <see
/// cref="NeedsAction"/>
/// marks what retrying alone will not mend (a host key that does not match, refused credentials, a full disk, a
/// missing bucket): health reports those at once instead of after several failed retries.
/// </summary>
public sealed class DestinationException(string message, Exception? inner = null,
    bool needsAction = false) : Exception(message, inner)
{
    public bool NeedsAction { get; } = needsAction;
}
