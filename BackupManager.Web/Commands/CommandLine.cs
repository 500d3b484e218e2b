namespace BackupManager.Web.Commands;

/// <summary>Arguments of one console command: positional values and --flags, with unknown flags reported.</summary>
public sealed class CommandLine
{
    private readonly HashSet<string> _flags;
    private readonly Dictionary<string, string> _values;

    public CommandLine(IEnumerable<string> arguments, IReadOnlyCollection<string> knownFlags,
        IReadOnlyCollection<string>? knownValueOptions = null)
    {
        _flags = new HashSet<string>(StringComparer.Ordinal);
        _values = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        var valueOptions = knownValueOptions ?? [];
        using var e = arguments.GetEnumerator();
        while (e.MoveNext())
        {
            var argument = e.Current;
            if (valueOptions.Contains(argument))
            {
                if (!e.MoveNext()) throw new UsageException($"{argument} needs a value.");
                _values[argument] = e.Current;
            }
            else if (argument.StartsWith("--", StringComparison.Ordinal))
            {
                if (!knownFlags.Contains(argument)) throw new UsageException($"Unknown option {argument}.");
                _flags.Add(argument);
            }
            else positional.Add(argument);
        }
        Positional = positional;
    }

    public IReadOnlyList<string> Positional { get; }
    public bool Has(string flag) => _flags.Contains(flag);
    public string? Value(string option) => _values.GetValueOrDefault(option);

    public string SinglePositional(string what)
    {
        if (Positional.Count != 1) throw new UsageException($"Expected exactly one {what}.");
        return Positional[0];
    }
}
