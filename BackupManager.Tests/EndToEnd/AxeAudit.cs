using System.Text.Json;
using Microsoft.Playwright;

namespace BackupManager.Tests.EndToEnd;

/// <summary>
/// Runs npm's axe-core (path in BACKUPMANAGER_TEST_AXE; the test command installs it) in a page. The script goes in
/// through Playwright's evaluate, which the DevTools protocol runs outside the page's content security policy: the app
/// keeps its own CSP (scripts from its origin only) and the test still audits the page users get.
/// </summary>
internal static class AxeAudit
{
    public sealed record Violation(string State, string Id, string Impact, string Help, int Nodes, string Targets);

    private static readonly Lazy<string> Source = new(() =>
    {
        var path = Environment.GetEnvironmentVariable("BACKUPMANAGER_TEST_AXE");
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
            throw new InvalidOperationException(
                "BACKUPMANAGER_TEST_AXE must name axe-core's axe.min.js; ./scripts/test.sh installs it and sets it.");
        return File.ReadAllText(path);
    });

    /// <summary>
    /// Every violation axe-core finds in the page as it is now (WCAG 2.1 A/AA rules and best practices).
    /// </summary>
    public static async Task<IReadOnlyList<Violation>> RunAsync(IPage page, string state)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
            await page.EvaluateAsync("() => { " + Source.Value + "\n}");
        var json = await page.EvaluateAsync<string>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ['violations'] });
              return JSON.stringify(result.violations.map(v => ({
                id: v.id, impact: v.impact || 'minor', help: v.help, nodes: v.nodes.length,
                targets: v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ') })));
            }
            """);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(v => new Violation(state, v.GetProperty("id").GetString()!,
            v.GetProperty("impact").GetString()!, v.GetProperty("help").GetString()!, v.GetProperty("nodes").GetInt32(),
            v.GetProperty("targets").GetString()!)).ToList();
    }

    public static bool IsSerious(Violation v) => v.Impact is "serious" or "critical";

    public static string Describe(IEnumerable<Violation> violations) => string.Join("\n", violations.Select(v =>
        $"{v.State}: {v.Id} ({v.Impact}, {v.Nodes} node(s)) {v.Help} — {v.Targets}"));
}
