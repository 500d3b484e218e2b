using System.Text;
using Npgsql;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

/// <summary>
/// What lives at database level rather than inside the database, so a plain <c>pg_dump</c> + <c>pg_restore</c> into a
/// new database loses it: owner, encoding and locale, connection limit, comment, ACL, <c>ALTER DATABASE … SET</c> and
/// <c>ALTER ROLE … IN DATABASE … SET</c> settings. Read from the catalogs when a backup is made, recorded in the
/// manifest, and applied to the staging database before the swap, so the swap changes nothing else.
/// </summary>
public sealed record DatabaseState
{
    public string Owner { get; init; } = "";
    public string Encoding { get; init; } = "";
    /// <summary>"libc" or "icu".</summary>
    public string LocaleProvider { get; init; } = "libc";
    public string Collate { get; init; } = "";
    public string Ctype { get; init; } = "";
    public string? IcuLocale { get; init; }
    public int ConnectionLimit { get; init; } = -1;
    public string? Comment { get; init; }
    /// <summary>The database ACL; null means the default (PUBLIC may connect and create temporary tables).</summary>
    public IReadOnlyList<DatabaseGrant>? Acl { get; init; }
    public IReadOnlyList<DatabaseSetting> Settings { get; init; } = [];

    /// <summary>Reads the state of the database <paramref name="connection"/> is connected to.</summary>
    public static async Task<DatabaseState> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        DatabaseState state;
        bool hasAcl;
        await using (var command = new NpgsqlCommand("""
            SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datlocprovider::text,
                   d.datcollate, d.datctype,
                   d.daticulocale, d.datconnlimit, shobj_description(d.oid, 'pg_database'), d.datacl IS NOT NULL
            FROM pg_database d WHERE d.datname = current_database()
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            state = new DatabaseState
            {
                Owner = reader.GetString(0),
                Encoding = reader.GetString(1),
                LocaleProvider = reader.GetString(2) == "i" ? "icu" : "libc",
                Collate = reader.GetString(3),
                Ctype = reader.GetString(4),
                IcuLocale = reader.IsDBNull(5) ? null : reader.GetString(5),
                ConnectionLimit = reader.GetInt32(6),
                Comment = reader.IsDBNull(7) ? null : reader.GetString(7),
            };
            hasAcl = reader.GetBoolean(8);
        }
        var acl = new List<DatabaseGrant>();
        if (hasAcl)
        {
            await using var command = new NpgsqlCommand("""
                SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                       a.privilege_type, a.is_grantable
                FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database()
                ORDER BY 1 NULLS FIRST, 2
                """, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                acl.Add(new DatabaseGrant(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetString(1),
                    reader.GetBoolean(2)));
        }
        var settings = new List<DatabaseSetting>();
        await using (var command = new NpgsqlCommand("""
            SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, c.item
            FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY AS c(item, n)
            WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY 1 NULLS FIRST, c.n
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var item = reader.GetString(1);
                var equals = item.IndexOf('=', StringComparison.Ordinal);
                settings.Add(new DatabaseSetting(reader.IsDBNull(0) ? null : reader.GetString(0), item[..equals],
                    item[(equals + 1)..]));
            }
        }
        return state with { Acl = hasAcl ? acl : null, Settings = settings };
    }

    private static readonly HashSet<string> DatabasePrivileges = new(StringComparer.Ordinal) { "CREATE", "CONNECT",
        "TEMPORARY", "TEMP" };

    /// <summary>The options of CREATE DATABASE that can only be chosen when a database is made.</summary>
    public string CreateOptions()
    {
        var options = new StringBuilder(
            $" TEMPLATE template0 ENCODING {QuoteLiteral(Encoding)} LC_COLLATE {QuoteLiteral(Collate)} LC_CTYPE "
            + $"{QuoteLiteral(Ctype)}");
        if (LocaleProvider == "icu") options.Append($" LOCALE_PROVIDER icu ICU_LOCALE {QuoteLiteral(IcuLocale ?? "")}");
        return options.ToString();
    }

    /// <summary>
    /// The statements that give <paramref name="database"/> this state (besides its owner and what CREATE DATABASE
    /// fixes). Each is marked with whether it needs more than owning the database (a per-role setting).
    /// </summary>
    public IEnumerable<(string Sql, bool NeedsRoleRights, DatabaseSetting? Setting)> Statements(string database)
    {
        var name = QuoteIdentifier(database);
        if (ConnectionLimit != -1) yield return ($"ALTER DATABASE {name} CONNECTION LIMIT {ConnectionLimit}", false,
            null);
        if (Comment is not null) yield return ($"COMMENT ON DATABASE {name} IS {QuoteLiteral(Comment)}", false, null);
        if (Acl is not null)
        {
            // A non-default ACL replaces the defaults entirely, as pg_dump does it.
            yield return ($"REVOKE ALL ON DATABASE {name} FROM PUBLIC", false, null);
            yield return ($"REVOKE ALL ON DATABASE {name} FROM {QuoteIdentifier(Owner)}", false, null);
            foreach (var grant in Acl)
            {
                // Privileges come from an archive's manifest: only the words a database ACL can hold go into SQL.
                if (!DatabasePrivileges.Contains(grant.Privilege))
                    throw new BackupException(BackupErrorKind.Damaged,
                        $"The backup's database ACL names an unknown privilege '{grant.Privilege}'; the archive is "
                        + $"refused.");
                yield return ($"GRANT {grant.Privilege} ON DATABASE {name} TO "
                    + $"{(grant.Grantee is null ? "PUBLIC" : QuoteIdentifier(grant.Grantee))}"
                    + (grant.Grantable ? " WITH GRANT OPTION" : ""), false, null);
            }
        }
        foreach (var setting in Settings)
        {
            var assignment = $"SET {QuoteIdentifier(setting.Name)} TO {setting.SqlValue()}";
            yield return setting.Role is null
                ? ($"ALTER DATABASE {name} {assignment}", false, setting)
                : ($"ALTER ROLE {QuoteIdentifier(setting.Role)} IN DATABASE {name} {assignment}", true, setting);
        }
    }
}
