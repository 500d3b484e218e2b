using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BackupManager.Core.Archive;
using BackupManager.Tests.Infrastructure;
using BackupManager.Web.Commands;

namespace BackupManager.Tests.Engine;

/// <summary>
/// Verify's strict inflater runs on the system zlib's public API (libz.so.1), not on the .NET runtime's private
/// exports that any servicing update may change, and says what to install when that library is missing.
/// </summary>
public sealed class SystemZlibTests
{
    [Fact]
    public void The_engine_imports_no_private_export_of_the_runtime_and_inflates_through_libz()
    {
        var imports = typeof(StrictInflateStream).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic
                | BindingFlags.DeclaredOnly))
            .Select(m => (Import: m.GetCustomAttribute<DllImportAttribute>(), Method: m))
            .Where(i => i.Import is not null)
            .Select(i => (Library: i.Import!.Value, Entry: i.Import.EntryPoint ?? i.Method.Name))
            .ToList();
        Assert.DoesNotContain(imports, i => i.Library.Contains("System.", StringComparison.OrdinalIgnoreCase)
            || i.Entry.StartsWith("CompressionNative", StringComparison.Ordinal));
        foreach (var entry in new[] { "inflateInit2_", "inflate", "inflateEnd" })
            Assert.Contains(("libz.so.1", entry), imports);
        Assert.Equal(112, Unsafe.SizeOf<SystemZlib.ZStream>()); // zlib.h's z_stream on 64-bit Linux
    }

    [Fact]
    public async Task Without_libz_so_1_verify_stops_with_an_error_that_names_the_package_to_install()
    {
        await using var h = await EngineHarness.CreateAsync();
        await h.SeedAsync();
        var filename = (await h.CreateBackupAsync()).Filename;
        var env = AppProcess.EnvironmentFor(h);

        var verified = await AppProcess.RunAsync(env, null, "app:verify-backup", filename);
        Assert.True(verified.ExitCode == 0, verified.Stderr);

        // A private mount namespace hides the library from the app alone: /dev/null over the file it maps.
        var hide = new[] { "unshare", "--mount", "--propagation", "private", "sh", "-c",
            "mount --bind /dev/null \"$1\" && shift && exec \"$@\"", "sh", LoadedLibzPath() };
        var hidden = await AppProcess.RunUnderAsync(hide, env, null, "app:verify-backup", filename);
        Assert.Equal(ExitCodes.Failure, hidden.ExitCode);
        Assert.Contains("Error: The system zlib (libz.so.1) could not be loaded, so backups cannot be verified",
            hidden.Stderr);
        Assert.Contains("Install Debian's zlib1g package (apt-get install zlib1g)", hidden.Stderr);
        Assert.DoesNotContain("unexpected", hidden.Stderr);
        Assert.DoesNotContain("OK", hidden.Stdout);
    }

    /// <summary>The file this process maps for libz.so.1 once the strict inflater has run.</summary>
    private static string LoadedLibzPath()
    {
        using (var inflate = new StrictInflateStream(new MemoryStream([0x03, 0x00]))) // an empty final block
            Assert.Equal(-1, inflate.ReadByte());
        var mapped = File.ReadLines("/proc/self/maps")
            .Select(l => l[(l.IndexOf('/') is var at and >= 0 ? at : l.Length)..])
            .Where(p => Path.GetFileName(p).StartsWith("libz.so.1", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        return Assert.Single(mapped);
    }
}
