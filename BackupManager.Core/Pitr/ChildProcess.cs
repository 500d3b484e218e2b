using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using BackupManager.Core.Database;

namespace BackupManager.Core.Pitr;

/// <summary>
/// The long-running sibling of <see cref="ExternalProcessRunner"/> (same request: argument list, secrets only in the
/// environment, stderr tail in the result) for a program that runs until it exits or is stopped. The program is
/// started through <c>setpriv --pdeathsig KILL</c> from a thread that lives exactly as long as it, so the kernel kills
/// it when this process dies, even by kill -9. Cancelling sends SIGTERM (pg_receivewal then flushes and exits), and
/// SIGKILL after <c>grace</c>.
/// </summary>
internal static partial class ChildProcess
{
    private const int MaxStderrChars = 8 * 1024, SigTerm = 15;
    private const string SetPriv = "/usr/bin/setpriv";

    public static Task<ExternalProcessResult> RunAsync(ExternalProcessRequest request, TimeSpan grace,
        Action<int>? started, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<ExternalProcessResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        // PR_SET_PDEATHSIG fires when the creating thread ends, so the child gets a thread of its own.
        var thread = new Thread(() => Run(request, grace, started, done, cancellationToken))
        {
            IsBackground = true,
            Name = Path.GetFileName(request.FileName),
        };
        thread.Start();
        return done.Task;
    }

    private static void Run(ExternalProcessRequest request, TimeSpan grace, Action<int>? started,
        TaskCompletionSource<ExternalProcessResult> done, CancellationToken cancellationToken)
    {
        try
        {
            var startInfo = new ProcessStartInfo(File.Exists(SetPriv) ? SetPriv : "setpriv")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var argument in (string[])["--pdeathsig", "KILL", "--", request.FileName, .. request.Arguments])
                startInfo.ArgumentList.Add(argument);
            foreach (var (key, value) in request.Environment) startInfo.Environment[key] = value;
            using var process = new Process { StartInfo = startInfo };
            var tail = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (tail)
                {
                    tail.AppendLine(e.Data);
                    if (tail.Length > MaxStderrChars) tail.Remove(0, tail.Length - MaxStderrChars);
                }
            };
            process.OutputDataReceived += (_, _) => { };
            try { process.Start(); }
            catch (Win32Exception e)
            {
                throw new BackupException(BackupErrorKind.Environment,
                    $"{Path.GetFileName(request.FileName)} could not be started through setpriv ({e.Message}). "
                    + "Install util-linux (setpriv) and the PostgreSQL client tools (postgresql-client).", e);
            }
            process.StandardInput.Close();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            started?.Invoke(process.Id);
            using var stop = cancellationToken.Register(() => Stop(process, grace));
            process.WaitForExit();
            string stderr;
            lock (tail) stderr = tail.ToString().Trim();
            done.SetResult(new ExternalProcessResult(process.ExitCode, "", stderr));
        }
        catch (Exception e)
        {
            done.TrySetException(e);
        }
    }

    private static void Stop(Process process, TimeSpan grace)
    {
        try
        {
            if (process.HasExited) return;
            _ = kill(process.Id, SigTerm);
            _ = Task.Delay(grace).ContinueWith(_ =>
            {
                try { if (!process.HasExited) process.Kill(); }
                catch (Exception e) when (e is InvalidOperationException or Win32Exception) { /* already gone */ }
            }, TaskScheduler.Default);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception) { /* already gone */ }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
