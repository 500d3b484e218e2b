using System.Text;
using System.Text.Json;
using Npgsql;
using static BackupManager.Core.Database.PgTools;

namespace BackupManager.Core.Database;

/// <summary>
/// The roles a database cannot be restored without: its owner, every role that owns something in it or holds a
/// privilege on it or in it (PostgreSQL's shared dependencies), roles with per-database settings, and the roles
/// those are members of. Predefined <c>pg_*</c> roles exist on every server and are left out.
/// </summary>
public static class RequiredRoles
{
    /// <summary>Reads the roles the database <paramref name="connection"/> is connected to needs.</summary>
    public static async Task<IReadOnlyList<RoleRecord>> ReadAsync(NpgsqlConnection connection,
        CancellationToken cancellationToken)
    {
        // The bootstrap superuser (oid 10) is pinned, so its ownerships are not in pg_shdepend: look for them directly.
        await using var command = new NpgsqlCommand("""
            WITH RECURSIVE db AS (SELECT oid, datdba FROM pg_database WHERE datname = current_database()),
            direct AS (
                SELECT d.refobjid AS id FROM pg_shdepend d, db
                WHERE d.refclassid = 'pg_authid'::regclass
                  AND (d.dbid = db.oid OR (d.dbid = 0 AND d.classid = 'pg_database'::regclass AND d.objid = db.oid))
                UNION SELECT datdba FROM db
                UNION SELECT s.setrole FROM pg_db_role_setting s, db WHERE s.setdatabase = db.oid AND s.setrole <> 0
                UNION SELECT 10 WHERE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE c.relowner = 10 AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_')
                    OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspowner = 10
                        AND nspname NOT IN ('information_schema', 'public') AND nspname !~ '^pg_')
                    OR EXISTS (SELECT 1 FROM pg_largeobject_metadata WHERE lomowner = 10)
            ),
            closure AS (
                SELECT id FROM direct UNION SELECT m.roleid FROM pg_auth_members m JOIN closure c ON m.member = c.id)
            SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
                   r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil,
                   coalesce((SELECT json_agg(json_build_object('role', p.rolname, 'admin', m.admin_option)
                                 ORDER BY p.rolname)
                             FROM pg_auth_members m JOIN pg_roles p ON p.oid = m.roleid WHERE m.member = r.oid),
                            '[]')::text
            FROM pg_roles r JOIN (SELECT DISTINCT id FROM closure) c ON c.id = r.oid
            WHERE r.rolname !~ '^pg_' ORDER BY r.rolname
            """, connection);
        var roles = new List<RoleRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var memberOf = JsonSerializer.Deserialize<List<RoleMembership>>(reader.GetString(10),
                BackupJson.Options) ?? [];
            roles.Add(new RoleRecord(reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2),
                reader.GetBoolean(3), reader.GetBoolean(4),
                reader.GetBoolean(5), reader.GetBoolean(6), reader.GetBoolean(7), reader.GetInt32(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9), memberOf));
        }
        return roles;
    }

    /// <summary>
    /// A script for <c>psql</c> that creates the roles that are missing (existing ones are left as they are) and
    /// their memberships: what an operator runs on a new server before <c>pg_restore</c>.
    /// </summary>
    public static string ToPsqlScript(IReadOnlyList<RoleRecord> roles, string database, DateTimeOffset recordedAt)
    {
        var sql = new StringBuilder();
        sql.AppendLine($"-- Roles the database {database} needs, recorded by BackupManager at {recordedAt:u}: "
            + $"attributes and memberships, never passwords.");
        sql.AppendLine("-- Run it as a superuser on the server you restore to, before pg_restore:");
        sql.AppendLine("--   psql -v ON_ERROR_STOP=1 -d postgres -f roles.sql");
        sql.AppendLine("-- Roles that exist already are left unchanged. A role that signs in needs a password "
            + "afterwards: ALTER ROLE name PASSWORD '...';");
        foreach (var role in roles)
        {
            var validUntil = role.ValidUntil is null ? "" : " VALID UNTIL %L";
            var arguments = QuoteLiteral(role.Name) + (role.ValidUntil is { } u
                ? ", " + QuoteLiteral(u.ToString("O")) : "");
            sql.AppendLine(
                $"SELECT format({QuoteLiteral("CREATE ROLE %I WITH " + role.Attributes() + validUntil)}, {arguments})");
            sql.AppendLine($"  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                + $"{QuoteLiteral(role.Name)})\\gexec");
        }
        foreach (var role in roles)
            foreach (var membership in role.MemberOf)
                sql.AppendLine($"GRANT {QuoteIdentifier(membership.Role)} TO {QuoteIdentifier(role.Name)}"
                    + $"{(membership.Admin ? " WITH ADMIN OPTION" : "")};");
        return sql.ToString();
    }

    /// <summary>
    /// Makes sure every role in <paramref name="roles"/> exists before anything is restored. Missing roles are created
    /// as NOLOGIN (with their memberships) when the connected role may create roles, and the returned warning says so;
    /// otherwise a <see cref="BackupException"/> names each missing role and the statement to run, and nothing changes.
    /// </summary>
    public static async Task<string?> EnsureAsync(NpgsqlConnection connection, IReadOnlyList<RoleRecord> roles,
        CancellationToken cancellationToken, bool createMissing = true)
    {
        if (roles.Count == 0) return null;
        var existing = new HashSet<string>(StringComparer.Ordinal);
        bool canCreate;
        await using (var command = new NpgsqlCommand(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(@names) UNION ALL SELECT '' WHERE (SELECT rolsuper OR "
                + "rolcreaterole FROM pg_roles WHERE rolname = current_user)",
            connection))
        {
            command.Parameters.AddWithValue("names", roles.Select(r => r.Name).ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) existing.Add(reader.GetString(0));
            canCreate = existing.Remove("");
        }
        var missing = roles.Where(r => !existing.Contains(r.Name)).ToList();
        if (missing.Count == 0) return null;
        var names = string.Join(", ", missing.Select(r => r.Name));
        if (!createMissing)
            throw new BackupException(BackupErrorKind.Environment,
                $"This database server lacks the role(s) {names} that the backup's database needs. A restore drill "
                    + $"never creates roles or changes anything else on the server, so the drill failed: "
                + $"a real restore here would have to create them first. Create them as a superuser "
                + $"({string.Join(" ", missing.Select(r => $"CREATE ROLE {QuoteIdentifier(r.Name)} NOLOGIN;"))}), "
                + $"or run the backup's db/roles.sql with psql.");
        if (!canCreate)
            throw new BackupException(BackupErrorKind.Environment,
                $"This database server lacks the role(s) {names} that the backup's database needs, and the role "
                    + $"BackupManager connects as may not create roles, so nothing was changed. "
                + $"Create them as a superuser "
                + $"({string.Join(" ", missing.Select(r => $"CREATE ROLE {QuoteIdentifier(r.Name)} NOLOGIN;"))}), "
                + "or run the backup's db/roles.sql with psql, then restore again.");
        foreach (var role in missing)
        {
            await using var create = new NpgsqlCommand(
                $"CREATE ROLE {QuoteIdentifier(role.Name)} NOLOGIN {(role.Inherit ? "" : "NO")}INHERIT", connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var skipped = new List<string>();
        var createdNames = missing.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var role in missing)
            foreach (var membership in role.MemberOf)
            {
                // Never into a role that was already here (a superuser's, pg_execute_server_program…): an archive's
                // list must not hand anyone rights the server did not give. Those are named for a superuser instead.
                if (!createdNames.Contains(membership.Role))
                {
                    skipped.Add($"GRANT {QuoteIdentifier(membership.Role)} TO {QuoteIdentifier(role.Name)};");
                    continue;
                }
                var grant = $"GRANT {QuoteIdentifier(membership.Role)} TO {QuoteIdentifier(role.Name)}"
                    + $"{(membership.Admin ? " WITH ADMIN OPTION" : "")}";
                try
                {
                    await using var command = new NpgsqlCommand(grant, connection);
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) { skipped.Add($"{grant}; ({e.MessageText})"); }
            }
        return $"This server lacked the role(s) {names}, which the restored database needs; they were created as "
            + $"NOLOGIN roles without passwords. "
            + "Give a role that must sign in LOGIN and a password: ALTER ROLE name LOGIN PASSWORD '...';"
            + (skipped.Count == 0 ? "" : $" Memberships in roles that already existed are not granted from a backup; "
                + $"if they are right, a superuser runs: {string.Join(" ", skipped)}");
    }
}
