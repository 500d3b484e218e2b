using BackupManager.Tests.EndToEnd;

namespace BackupManager.Tests.Conventions;

/// <summary>
/// The size limits the next maintainer relies on (docs/architecture.md): no line over 120 characters, no file over
/// 300 lines, no page or component over 200 lines or 6 injections. Generated EF migrations are exempt.
/// </summary>
public sealed class CodeLimitsTests
{
    private const int MaxLine = 120, MaxFile = 300, MaxComponent = 200, MaxInjections = 6;

    private static IEnumerable<string> SourceFiles()
    {
        var root = BrowserSession.RepositoryRoot();
        return Directory.EnumerateDirectories(root, "BackupManager.*")
            .SelectMany(project => Directory.EnumerateFiles(project, "*.*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal))
            .Where(f => !f.Contains("/Migrations/", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f))
            .Order(StringComparer.Ordinal);
    }

    [Fact]
    public void Every_source_file_keeps_the_line_file_and_component_limits()
    {
        var root = BrowserSession.RepositoryRoot();
        var broken = new List<string>();
        foreach (var file in SourceFiles())
        {
            var lines = File.ReadAllLines(Path.Combine(root, file));
            // Counted in UTF-8 bytes, as the review's checker and awk count them ("…" is three).
            var longLines = lines.Count(l => System.Text.Encoding.UTF8.GetByteCount(l) > MaxLine);
            if (longLines > 0) broken.Add($"{file}: {longLines} line(s) over {MaxLine} bytes");
            var component = file.EndsWith(".razor", StringComparison.Ordinal) && !file.EndsWith("_Imports.razor",
                StringComparison.Ordinal);
            var limit = component ? MaxComponent : MaxFile;
            if (lines.Length > limit) broken.Add($"{file}: {lines.Length} lines (limit {limit})");
            var injections = lines.Count(l => l.TrimStart().StartsWith("@inject ", StringComparison.Ordinal));
            if (component && injections > MaxInjections)
                broken.Add($"{file}: {injections} @inject (limit {MaxInjections}): give the page a service");
        }
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }
}
