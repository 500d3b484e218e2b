using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace BackupManager.Web.Cluster;

/// <summary>
/// The data-protection key ring (it signs the sign-in cookie and the antiforgery tokens) in the accounts database, so
/// a cookie issued by one instance is accepted by every other: behind a load balancer a request may land anywhere.
/// Contract: <see cref="GetAllElements"/> returns every key any instance stored; <see cref="StoreElement"/> is
/// durable when it returns. The table lives in the cluster's own schema and exists only with Backup__Cluster__Enabled.
/// </summary>
public sealed class ClusterKeyRepository(string connectionString, string schema) : IXmlRepository
{
    private string Table => $"\"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\".data_protection_keys";

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = Open();
        using var command = new NpgsqlCommand($"SELECT xml FROM {Table} ORDER BY id", connection);
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read()) elements.Add(XElement.Parse(reader.GetString(0)));
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = Open();
        using var command = new NpgsqlCommand(
            $"INSERT INTO {Table} (friendly_name, xml) VALUES (@name, @xml)", connection);
        command.Parameters.AddWithValue("name", friendlyName);
        command.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }

    /// <summary>Creates the schema and table when missing; safe when several instances start at once.</summary>
    public void EnsureTable()
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var quotedSchema = $"\"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
        // Concurrent CREATE ... IF NOT EXISTS can still collide on the catalog: serialise the instances.
        using var command = new NpgsqlCommand(
            $"SELECT pg_advisory_xact_lock({ClusterKeyRepositoryLockKey}); "
            + $"CREATE SCHEMA IF NOT EXISTS {quotedSchema}; "
            + $"CREATE TABLE IF NOT EXISTS {Table} (id bigserial PRIMARY KEY, friendly_name text NOT NULL, "
            + "xml text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())", connection, transaction);
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Advisory lock key of the table's creation ("BMdpkeys" in ASCII).</summary>
    public const long ClusterKeyRepositoryLockKey = 0x424D64706B657973;

    private NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            connection.Dispose();
            throw new InvalidOperationException(
                "The sign-in keys shared by the cluster's instances cannot be read from the accounts database ("
                + e.Message + "). Check that PostgreSQL is reachable and ConnectionStrings__Accounts is right.", e);
        }
    }
}
