using System.Text;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

/// <summary>An <c>ALTER DATABASE … SET</c> (null <see cref="Role"/>) or <c>ALTER ROLE … IN DATABASE … SET</c>
/// setting,
/// as the catalog stores it.</summary>
public sealed record DatabaseSetting(string? Role, string Name, string Value)
{
    /// <summary>Settings whose stored value is a list of separately quoted items (PostgreSQL's
    /// GUC_LIST_QUOTE).</summary>
    private static readonly HashSet<string> ListQuoted = new(StringComparer.OrdinalIgnoreCase)
    {
        "local_preload_libraries", "search_path", "session_preload_libraries", "shared_preload_libraries",
            "temp_tablespaces", "unix_socket_directories",
    };

    /// <summary>The value as SQL, quoted the way pg_dump quotes it, so it is stored back exactly as it was.</summary>
    public string SqlValue()
    {
        if (!ListQuoted.Contains(Name)) return QuoteLiteral(Value);
        // The stored form is PostgreSQL's: items separated by commas, each bare or in double quotes ("" inside).
        var items = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < Value.Length && char.IsWhiteSpace(Value[i])) i++;
            if (i >= Value.Length) break;
            var item = new StringBuilder();
            if (Value[i] == '"')
            {
                for (i++; i < Value.Length; i++)
                {
                    if (Value[i] != '"') item.Append(Value[i]);
                    else if (i + 1 < Value.Length && Value[i + 1] == '"') item.Append(Value[++i]);
                    else { i++; break; }
                }
            }
            else
            {
                while (i < Value.Length && Value[i] != ',') item.Append(Value[i++]);
                item = new StringBuilder(item.ToString().TrimEnd());
            }
            items.Add(item.ToString());
            while (i < Value.Length && char.IsWhiteSpace(Value[i])) i++;
            if (i < Value.Length && Value[i] == ',') i++;
            else break;
        }
        return items.Count == 0 ? "''" : string.Join(", ", items.Select(QuoteLiteral));
    }
}
