using BackupManager.Core.IO;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace BackupManager.Core.Database;

/// <summary>
/// The one way the engine starts an external program (pg_dump, pg_restore). Contract: arguments are passed as a list,
/// passwords only through the environment, the program is killed (with its children) when the timeout or the caller's
/// token fires, and the last part of its stderr is returned so errors can carry it. A program that is not installed
/// raises <see cref="BackupException"/> with kind <see cref="BackupErrorKind.Environment"/>. A non-zero exit is
/// returned, not thrown, so the caller can translate it into a message about its own tool. Each run is logged at
/// Debug with its arguments (which never hold a secret), its exit code and duration.
/// </summary>
public sealed class ExternalProcessRunner(ILogger<ExternalProcessRunner> logger)
{
    private const int MaxStderrChars = 16 * 1024;

    public async Task<ExternalProcessResult> RunAsync(ExternalProcessRequest request,
        CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(request.FileName)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in request.Arguments) startInfo.ArgumentList.Add(argument);
        foreach (var (key, value) in request.Environment) startInfo.Environment[key] = value;

        using var process = new Process { StartInfo = startInfo };
        var started = Stopwatch.GetTimestamp();
        logger.LogDebug("Running {Program} {Arguments}", request.FileName, string.Join(' ', request.Arguments));
        try
        {
            process.Start();
            if (request.LowPriority) IO.LowPriority.ApplyToProcess(process.Id);
        }
        catch (Win32Exception e)
        {
            var tool = Path.GetFileName(request.FileName);
            throw new BackupException(BackupErrorKind.Environment,
                $"{tool} could not be started ({e.Message}). Install the PostgreSQL client tools (apt-get install "
                    + $"postgresql-client) " +
                "or point Backup__PgBinDirectory at the folder that holds them.", e);
        }

        using var timeout = new CancellationTokenSource(request.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        using var killOnCancel = token.Register(() => KillQuietly(process));

        if (request.ReadStandardOutput is not null) NativeFileSystem.TryEnlargePipe(process.StandardOutput.BaseStream);
        if (request.WriteStandardInput is not null) NativeFileSystem.TryEnlargePipe(process.StandardInput.BaseStream);
        var stderrTask = ReadTailAsync(process.StandardError);
        var stdoutTask = request.ReadStandardOutput is { } read
            ? ConsumeAsync(read, process.StandardOutput.BaseStream, token)
            : process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stdinTask = FeedAsync(request.WriteStandardInput, process.StandardInput.BaseStream, token);

        Exception? pipeFailure = null;
        try { await Task.WhenAll(stdoutTask, stdinTask).ConfigureAwait(false); }
        catch (Exception e)
        {
            // The consumer failed (disk full, hash mismatch…): stop the program, then report the first real cause.
            pipeFailure = e;
            KillQuietly(process);
        }
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var stderr = await stderrTask.ConfigureAwait(false);

        if (timeout.IsCancellationRequested)
            throw new BackupException(BackupErrorKind.Cancelled,
                $"{Path.GetFileName(request.FileName)} did not finish within {request.Timeout} and was stopped. Raise "
                    + $"Backup__CommandTimeout if the database is that large.");
        cancellationToken.ThrowIfCancellationRequested();
        // A broken pipe is a symptom when the program itself failed: prefer its exit code and stderr.
        if (pipeFailure is not null && (process.ExitCode == 0 || pipeFailure is BackupException))
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(pipeFailure);

        var stdout = stdoutTask is Task<string> text ? await text.ConfigureAwait(false) : "";
        logger.LogDebug("{Program} exited with {ExitCode} after {Elapsed}", Path.GetFileName(request.FileName),
            process.ExitCode, Stopwatch.GetElapsedTime(started));
        return new ExternalProcessResult(process.ExitCode, stdout, stderr);
    }

    private static async Task<string> ConsumeAsync(Func<Stream, CancellationToken, Task> read, Stream stdout,
        CancellationToken token)
    {
        await read(stdout, token).ConfigureAwait(false);
        return "";
    }

    private static async Task FeedAsync(Func<Stream, CancellationToken, Task>? write, Stream stdin,
        CancellationToken token)
    {
        try
        {
            if (write is not null) await write(stdin, token).ConfigureAwait(false);
        }
        catch (IOException) when (token.IsCancellationRequested)
        {
            // The program was killed while we were still writing to it; the cancellation is reported instead.
        }
        finally
        {
            try { stdin.Dispose(); } catch (IOException) { /* the program already exited; its exit code tells why */ }
        }
    }

    private static async Task<string> ReadTailAsync(StreamReader reader)
    {
        var tail = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            tail.Append(buffer, 0, read);
            if (tail.Length > 2 * MaxStderrChars) tail.Remove(0, tail.Length - MaxStderrChars);
        }
        return tail.Length > MaxStderrChars ? tail.ToString(tail.Length - MaxStderrChars,
            MaxStderrChars) : tail.ToString();
    }

    private static void KillQuietly(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
        catch (Win32Exception) { /* already gone */ }
    }
}
