using BackupManager.Core.Pitr;

namespace BackupManager.Web.Commands;

/// <summary>app:receive-wal: the WAL receiver in the foreground (deployments without the web app) until Ctrl+C or
/// SIGTERM.</summary>
public sealed class ReceiveWalCommand(WalReceiver receiver, PitrSource source) : IConsoleCommand
{
    public string Name => "receive-wal";
    public string Usage => "";
    public string Summary => "Streams WAL into the backup folder (pg_receivewal from this installation's slot) until "
        + "stopped with Ctrl+C; restarts it when it exits.";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        new CommandLine(arguments, []);
        source.RequireTarget();
        Console.Error.WriteLine($"Receiving WAL into {source.Layout.Wal} from slot {source.Layout.SlotName}; "
            + "Ctrl+C stops.");
        // SIGTERM (systemd's stop) stops it like Ctrl+C: pg_receivewal gets SIGTERM and flushes before it exits.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
        await receiver.RunAsync(stop.Token);
        Console.Error.WriteLine("Stopped.");
        return ExitCodes.Success;
    }
}
