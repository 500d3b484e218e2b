namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// Everything a restore puts back, to compare two moments exactly: each table of every schema (row count and a hash of
/// its rows), every sequence's position and large object, and every file and folder under the clinic's folder (the
/// parent of the harness's roots) with its content hash.
/// </summary>
public sealed record ClinicState(string Database, string Files)
{
    private const string OneTable =
        "query_to_xml(format('SELECT count(*) || '' rows '' || coalesce(md5(string_agg(t::text, E''\\n'' "
        + "ORDER BY t::text)), ''-'') AS h FROM ONLY %I.%I t', schemaname, tablename), false, true, '')";

    public static async Task<ClinicState> CaptureAsync(EngineHarness h) =>
        new(await DatabaseAsync(h.Database), FilesUnder(Path.GetDirectoryName(h.Xrays)!));

    /// <summary>One line per table, sequence and large object, read as the superuser (nothing is hidden).</summary>
    public static async Task<string> DatabaseAsync(TestDatabase database)
    {
        var lines = await database.RowsAsync($"""
            SELECT 'table ' || format('%I.%I', schemaname, tablename) || ' '
                || (xpath('/row/h/text()', {OneTable}))[1]::text
            FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'sequence ' || format('%I.%I', schemaname, sequencename) || ' ' || coalesce(last_value::text, '-')
            FROM pg_sequences
            UNION ALL
            SELECT 'large object ' || oid || ' ' || md5(lo_get(oid)) FROM pg_largeobject_metadata
            ORDER BY 1
            """, asAdmin: true);
        return string.Join("\n", lines);
    }

    /// <summary>Every folder and file below <paramref name="root"/>, a file with the SHA-256 of its content.</summary>
    public static string FilesUnder(string root)
    {
        var folders = Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(root, d) + "/");
        var files = TestFolder.Snapshot(root).Select(kv => kv.Key + " " + kv.Value);
        return string.Join("\n", folders.Concat(files).Order(StringComparer.Ordinal));
    }
}
