using System.Security.Cryptography;

namespace BackupManager.Tests.Infrastructure;

/// <summary>
/// A clinic as it is deployed: more than one schema, a second role with grants on them, a large object, database-level
/// settings, ACL and comment, a per-role setting, and files and folders with their own modes, times and owners.
/// <see cref="CaptureAsync"/> reads all of it back so a restore can be compared with what was backed up.
/// </summary>
public static class DeployedClinic
{
    public static readonly DateTime FileTime = new DateTime(2024, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddTicks(1_234_567);
    public const uint OtherUser = 1234, OtherGroup = 2345;

    /// <summary>
    /// Seeds <paramref name="h"/>'s database and folders; returns the name of the second role (a reader).
    /// </summary>
    public static async Task<string> SeedAsync(EngineHarness h)
    {
        var db = h.Database;
        var reader = db.NewRoleName("r");
        await TestPostgres.ExecuteAsync(db.AdminConnectionString, "postgres", $"CREATE ROLE \"{reader}\" NOLOGIN");
        await db.ExecuteAsync(
            "CREATE SCHEMA billing;\n"
            + "CREATE TABLE public.patients (id serial PRIMARY KEY, name text NOT NULL, born date);\n"
            + "INSERT INTO public.patients (name, born) SELECT 'Patient ' || g, date '1950-01-01' + g "
            + "FROM generate_series(1, 300) g;\n"
            + "CREATE TABLE billing.invoices (id serial PRIMARY KEY, patient_id int REFERENCES "
            + "public.patients (id), amount numeric(10,2), scan oid);\n"
            + "INSERT INTO billing.invoices (patient_id, amount) SELECT 1 + g % 300, g * 1.5 FROM "
            + "generate_series(1, 600) g;\n"
            + "UPDATE billing.invoices SET scan = lo_from_bytea(0, decode(repeat('ab', 5000), 'hex')) WHERE id = 1;\n"
            + $"GRANT USAGE ON SCHEMA billing TO \"{reader}\";\n"
            + $"GRANT SELECT ON billing.invoices TO \"{reader}\";\n"
            + $"ALTER DATABASE \"{db.Name}\" SET timezone TO 'Pacific/Auckland';\n"
            + $"ALTER DATABASE \"{db.Name}\" SET search_path TO \"$user\", public, \"billing\";\n"
            + $"REVOKE CONNECT ON DATABASE \"{db.Name}\" FROM PUBLIC;\n"
            + $"GRANT CONNECT ON DATABASE \"{db.Name}\" TO \"{reader}\";\n"
            + $"COMMENT ON DATABASE \"{db.Name}\" IS 'The clinic''s records';");
        // Only a superuser (or a role with CREATEROLE) may set a per-role setting for another role.
        await TestPostgres.ExecuteAsync(
            db.AdminConnectionString,
            "postgres",
            $"ALTER ROLE \"{reader}\" IN DATABASE \"{db.Name}\" SET work_mem TO '8MB'");

        WriteFile(
            Path.Combine(h.Xrays, "2026", "panoramic.jpg"),
            RandomNumberGenerator.GetBytes(120_000),
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteFile(Path.Combine(h.Documents, "consent", "patient-1.txt"), "I consent."u8.ToArray(),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        SetOwner(Path.Combine(h.Documents, "consent", "patient-1.txt"), OtherUser, OtherGroup);
        WriteFile(Path.Combine(h.Documents, "private", "notes.txt"), "private"u8.ToArray(), UnixFileMode.UserRead);
        File.SetUnixFileMode(
            Path.Combine(h.Documents, "private"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(h.Xrays, "empty"));
        File.SetUnixFileMode(
            Path.Combine(h.Xrays, "empty"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        // Folder times last: writing into a folder changes its time.
        var folders = new[]
        {
            Path.Combine(h.Xrays, "2026"),
            Path.Combine(h.Xrays, "empty"),
            Path.Combine(h.Documents, "consent"),
            Path.Combine(h.Documents, "private"),
        };
        foreach (var folder in folders)
            Directory.SetLastWriteTimeUtc(folder, FileTime.AddDays(1));
        return reader;
    }

    /// <summary>Changes every part of the state, as the clinic would after the backup.</summary>
    public static async Task ChangeAsync(EngineHarness h, string reader)
    {
        var db = h.Database;
        await db.ExecuteAsync(
            "UPDATE public.patients SET name = 'changed' WHERE id <= 10;\n"
            + "DELETE FROM billing.invoices WHERE id > 500;\n"
            + $"REVOKE SELECT ON billing.invoices FROM \"{reader}\";\n"
            + $"ALTER DATABASE \"{db.Name}\" SET timezone TO 'UTC';\n"
            + $"GRANT CONNECT ON DATABASE \"{db.Name}\" TO PUBLIC;\n"
            + $"COMMENT ON DATABASE \"{db.Name}\" IS 'changed';");
        await TestPostgres.ExecuteAsync(
            db.AdminConnectionString, "postgres", $"ALTER ROLE \"{reader}\" IN DATABASE \"{db.Name}\" RESET work_mem");
        File.WriteAllText(Path.Combine(h.Documents, "consent", "patient-1.txt"), "changed");
        File.SetUnixFileMode(Path.Combine(h.Xrays, "2026", "panoramic.jpg"), (UnixFileMode)0x1FF);
        Directory.Delete(Path.Combine(h.Xrays, "empty"));
    }

    public sealed record State(IReadOnlyList<string> Database, IReadOnlyList<string> Files)
    {
        public bool Equals(State? other) =>
            other is not null && Database.SequenceEqual(other.Database) && Files.SequenceEqual(other.Files);
        public override int GetHashCode() => Database.Count;
        public override string ToString() => string.Join("\n", Database.Concat(Files));
    }

    /// <summary>
    /// Everything <see cref="SeedAsync"/> set, read back as lines of text (the database part as the superuser sees it).
    /// <paramref name="wholeSeconds"/> compares file times to the second: all that unzip's timestamp field carries.
    /// </summary>
    public static async Task<State> CaptureAsync(EngineHarness h, string reader, bool wholeSeconds = false)
    {
        var db = h.Database;
        var lines = new List<string>();
        lines.AddRange((await db.RowsAsync("SELECT * FROM public.patients ORDER BY id", asAdmin: true))
            .Select(r => "patients " + r));
        lines.AddRange((await db.RowsAsync(
                "SELECT id, patient_id, amount, scan IS NOT NULL, md5(lo_get(scan)) FROM billing.invoices ORDER BY id",
                asAdmin: true))
            .Select(r => "invoices " + r));
        lines.AddRange((await db.RowsAsync(
                "SELECT pg_get_userbyid(lomowner) FROM pg_largeobject_metadata", asAdmin: true))
            .Select(r => "large object owner " + r));
        lines.AddRange((await db.RowsAsync(
            "SELECT n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN "
            + "pg_namespace n ON n.oid = c.relnamespace\n"
            + "WHERE n.nspname IN ('public', 'billing') AND c.relkind = 'r' ORDER BY 1",
            asAdmin: true))
            .Select(r => "table owner " + r));
        lines.AddRange(await db.RowsAsync(
            $"SELECT 'grants', has_schema_privilege('{reader}', 'billing', 'USAGE'), "
            + $"has_table_privilege('{reader}', 'billing.invoices', 'SELECT'),\n"
            + $"       has_database_privilege('{reader}', current_database(), 'CONNECT')", asAdmin: true));
        lines.AddRange((await db.RowsAsync(
            "SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, "
            + "d.datctype, d.datlocprovider, d.datconnlimit,\n"
            + "       shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = "
            + "current_database()", asAdmin: true)).Select(r => "database " + r));
        lines.AddRange((await db.RowsAsync(
            "SELECT coalesce(pg_get_userbyid(nullif(a.grantee, 0)), 'PUBLIC'), a.privilege_type, a.is_grantable\n"
            + "FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() ORDER BY 1, 2",
            asAdmin: true))
            .Select(r => "database acl " + r));
        lines.AddRange((await db.RowsAsync(
            "SELECT coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '(database)'), s.setconfig::text "
            + "FROM pg_db_role_setting s\n"
            + "WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1",
            asAdmin: true))
            .Select(r => "setting " + r));
        return new State(lines, Files(h.Xrays, wholeSeconds).Concat(Files(h.Documents, wholeSeconds)).ToList());
    }

    /// <summary>
    /// Every file and folder under <paramref name="root"/> with its content hash, mode, exact time and owner.
    /// </summary>
    public static IEnumerable<string> Files(string root, bool wholeSeconds = false)
    {
        var name = Path.GetFileName(root);
        var entries = Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Append(root);
        foreach (var path in entries.Order(StringComparer.Ordinal))
        {
            var directory = Directory.Exists(path);
            var status = Core.IO.NativeFileSystem.Stat(path)!.Value;
            var content = directory ? "folder" : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16];
            var time = directory ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path);
            if (wholeSeconds) time = time.AddTicks(-(time.Ticks % TimeSpan.TicksPerSecond));
            yield return $"{name}/{Path.GetRelativePath(root, path)} {content} "
                + $"{Convert.ToString(status.Permissions, 8)} {time.Ticks} {status.Uid}:{status.Gid}";
        }
    }

    private static void WriteFile(string path, byte[] content, UnixFileMode mode)
    {
        TestFolder.WriteFile(path, content);
        File.SetUnixFileMode(path, mode);
        File.SetLastWriteTimeUtc(path, FileTime);
    }

    private static void SetOwner(string path, uint uid, uint gid) =>
        Core.IO.NativeFileSystem.SetOwner(path, uid, gid);
}
