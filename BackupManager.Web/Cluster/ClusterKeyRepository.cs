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
    private string Table => $"{Core.Cluster.ClusterSchema.Quoted(schema)}.data_protection_keys";

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
