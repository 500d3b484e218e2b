using System.Net.Sockets;
using System.Reflection;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace BackupManager.Core.Offsite.Destinations;

/// <summary>
/// Opens the SFTP connection of one destination: the host key must match <c>HostKeySha256</c> (never trusted on first
/// use), every wait on the server is bounded by <c>TimeoutSeconds</c>, and each failure says what to check.
/// </summary>
internal static class SftpConnector
{
    public static async Task<SftpClient> ConnectAsync(string name, DestinationOptions options,
        CancellationToken cancellationToken)
    {
        AuthenticationMethod method = !string.IsNullOrWhiteSpace(options.PrivateKeyFile)
            ? new PrivateKeyAuthenticationMethod(options.Username, new PrivateKeyFile(options.PrivateKeyFile))
            : new PasswordAuthenticationMethod(options.Username, options.Password);
        var timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        // Timeout bounds the connect and a wait for the server's window; OperationTimeout every SFTP request
        var connection = new ConnectionInfo(options.Host!, options.Port, options.Username!, method)
            { Timeout = timeout };
        // AES-GCM first where the server has it: one pass of the CPU's AES instructions, where CTR + HMAC is two.
        foreach (var (cipher, position) in new[] { ("aes128-gcm@openssh.com", 0), ("aes256-gcm@openssh.com", 1) })
            if (connection.Encryptions.ContainsKey(cipher)) connection.Encryptions.SetPosition(cipher, position);
        var client = new SftpClient(connection) { OperationTimeout = timeout };
        string? offered = null;
        client.HostKeyReceived += (_, e) =>
        {
            offered = "SHA256:" + e.FingerPrintSHA256;
            e.CanTrust = string.Equals(offered, options.HostKeySha256, StringComparison.Ordinal);
        };
        var server = $"{name}: the SFTP server {options.Host}:{options.Port}";
        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            // SSH.NET writes to a blocking socket with no timeout: a server that stops reading would hold it forever
            if (SocketOf(client) is { } socket) socket.SendTimeout = (int)timeout.TotalMilliseconds;
            return client;
        }
        catch (Exception e) when (e is SshConnectionException && offered is not null
            && offered != options.HostKeySha256)
        {
            client.Dispose();
            throw new DestinationException(
                $"{server} offered the host key {offered}, but Backup__Destinations__{name}__HostKeySha256 expects "
                + $"{options.HostKeySha256}. Nothing was sent. If the server's key was changed on purpose, confirm the "
                + "new fingerprint with its administrator and update the setting; otherwise someone may be "
                + "intercepting the connection.", e, needsAction: true);
        }
        catch (SshAuthenticationException e)
        {
            client.Dispose();
            throw new DestinationException(
                $"{server} refused the login of {options.Username} ({e.Message}). Check "
                + $"Backup__Destinations__{name}__Username and the private key (its public half must be in the "
                + "server's authorized_keys).", e, needsAction: true);
        }
        catch (Exception e) when (
            e is SocketException or SshException or TimeoutException or SshOperationTimeoutException)
        {
            client.Dispose();
            throw new DestinationException(
                $"{server} cannot be reached ({e.Message}). Check the network and the server; the copy is retried "
                + "later.", e);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The TCP socket under <paramref name="client"/>, which SSH.NET does not expose: closing it is the one
    /// way to end a send stalled on a full socket, because SSH.NET's own disconnect waits for the lock that send
    /// holds. Null if a later SSH.NET keeps it elsewhere (<c>SftpStalledServerTests</c> would then fail).</summary>
    public static Socket? SocketOf(SftpClient client)
    {
        const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;
        var session = typeof(BaseClient).GetProperty("Session", Private)?.GetValue(client);
        return session?.GetType().GetField("_socket", Private)?.GetValue(session) as Socket;
    }
}
