using BackupManager.Core.Database;
using BackupManager.Core.IO;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Pitr;

/// <summary>
/// Streams WAL into <c>pitr/wal</c> with <c>pg_receivewal --synchronous --no-loop</c> from this installation's
/// replication slot (created first if missing), restarts it with backoff (1 s doubling to 60 s; reset after a minute
/// of streaming) when it exits, and stops it when <see cref="RunAsync"/> is cancelled. The child dies with this
/// process (see <see cref="ChildProcess"/>).
/// </summary>
public sealed class WalReceiver(PitrSource source, ExternalProcessRunner runner, TimeProvider time,
    ILogger<WalReceiver> logger)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60), Grace = TimeSpan.FromSeconds(10);
    private WalReceiverState _state = new(false, null, null, 0, null);

    /// <summary>The receiver's state in this process (not running when it was never started here).</summary>
    public WalReceiverState State => _state;

    /// <summary>Runs until cancelled; never throws for a failing child (it is logged and restarted).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            try
            {
                source.Layout.EnsureFolders();
                await CreateSlotAsync(cancellationToken).ConfigureAwait(false);
                PrivateFiles.Tighten(source.Layout.Wal);
                var result = await ChildProcess.RunAsync(StreamRequest(), Grace,
                    pid => _state = _state with { Running = true, ProcessId = pid, StartedAt = time.GetUtcNow() },
                    cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested) break;
                var error = $"pg_receivewal exited with code {result.ExitCode}: "
                    + (result.StandardError.Length > 0 ? result.StandardError : "(no error output)");
                _state = _state with { Running = false, ProcessId = null, LastError = error };
                logger.LogWarning("WAL receiver stopped ({Error}); restarting in {Backoff}", error, backoff);
            }
            catch (BackupException e) when (!cancellationToken.IsCancellationRequested)
            {
                _state = _state with { Running = false, ProcessId = null, LastError = e.Message };
                logger.LogWarning("WAL receiver could not start ({Error}); retrying in {Backoff}", e.Message, backoff);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { break; }
            if (time.GetUtcNow() - started > MaxBackoff) backoff = TimeSpan.FromSeconds(1);
            try { await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            _state = _state with { Restarts = _state.Restarts + 1 };
        }
        _state = _state with { Running = false, ProcessId = null };
    }

    /// <summary>Creates this installation's physical slot if it does not exist yet (idempotent).</summary>
    public async Task CreateSlotAsync(CancellationToken cancellationToken)
    {
        var arguments = source.ReplicationArguments();
        arguments.AddRange(["--create-slot", "--if-not-exists", "--slot", source.Layout.SlotName]);
        var result = await runner.RunAsync(new ExternalProcessRequest(source.Tool("pg_receivewal"), arguments)
        {
            Environment = source.Environment(),
            Timeout = TimeSpan.FromMinutes(1),
        }, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0) throw Failure("create the replication slot", result);
    }

    private ExternalProcessRequest StreamRequest()
    {
        var arguments = source.ReplicationArguments();
        arguments.AddRange(["--slot", source.Layout.SlotName, "--synchronous", "--no-loop",
            "--directory", source.Layout.Wal]);
        return new ExternalProcessRequest(source.Tool("pg_receivewal"), arguments)
        {
            Environment = source.Environment(),
        };
    }

    private BackupException Failure(string what, ExternalProcessResult result)
    {
        var stderr = result.StandardError.Trim();
        var hint = stderr.Contains("replication", StringComparison.OrdinalIgnoreCase)
            ? " The role needs REPLICATION (ALTER ROLE … REPLICATION) and pg_hba.conf a line for the 'replication' "
                + "pseudo-database (see docs/backup-procedures.md, point-in-time recovery)."
            : "";
        var failure = PgTools.Failure("pg_receivewal", result, source.RequireTarget());
        return new BackupException(failure.Kind, $"Could not {what}: {failure.Message}{hint}");
    }
}
