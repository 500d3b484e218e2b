using System.Runtime.InteropServices;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// The test process's umask, for a test that must run under a given one: a web host started in this process sets
/// 077 for the whole process, as Program.cs does. Only for tests in <see cref="RunsAloneCollection"/>.
/// </summary>
internal static class ProcessUmask
{
    /// <summary>Sets the umask to <paramref name="mask"/> until the result is disposed.</summary>
    public static IDisposable Set(uint mask)
    {
        var previous = umask(mask);
        return new Restore(previous);
    }

    private sealed class Restore(uint previous) : IDisposable
    {
        public void Dispose() => umask(previous);
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code enabled in the test project
    [DllImport("libc", SetLastError = false)]
    private static extern uint umask(uint mask);
#pragma warning restore SYSLIB1054
}
