using System.Text.Json;
using BackupManager.Core.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace BackupManager.Core.Cluster;

/// <summary>
/// Reads and writes the cluster's <c>instances</c> and <c>jobs</c> tables (see <see cref="ClusterSchema"/>). Times
/// that decide whether an instance is alive are the database's own (<c>now()</c>), so the servers' clocks may differ.
/// Liveness is per process (<see cref="Incarnation"/>): a job of an earlier run under the same instance name is
/// interrupted like any other, and two processes that share a name do not mask each other.
/// </summary>
public sealed class ClusterJobTable : IAsyncDisposable
{
    /// <summary>What an interrupted job says (%s: the instance's name).</summary>
    public const string InterruptedMessage = "The app server %s that ran this job stopped before it finished (it has "
        + "not been heard from since). An unfinished archive never becomes a backup and nothing half-done is listed: "
        + "check the list of backups, then start the job again.";

    private readonly NpgsqlDataSource _database;
    private readonly string _schema;
    private readonly int _handoverSeconds;

    public ClusterJobTable(ClusterOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Timeout = 5, CommandTimeout = 5 };
        _database = NpgsqlDataSource.Create(builder.ConnectionString);
        _schema = ClusterSchema.Quoted(options.Schema);
        _handoverSeconds = Math.Max(1, options.HandoverSeconds);
        Instance = options.ResolvedInstanceName;
    }

    public string Instance { get; }

    /// <summary>This process's run of <see cref="Instance"/>.</summary>
    public Guid Incarnation { get; } = Guid.NewGuid();

    public Task InstallAsync(CancellationToken cancellationToken) =>
        ClusterSchema.InstallAsync(_database, _schema.Trim('"'), cancellationToken);

    /// <summary>Records that this instance is alive now.</summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand($"""
            INSERT INTO {_schema}.instances (incarnation, name, started, heartbeat) VALUES (@run, @name, now(), now())
            ON CONFLICT (incarnation) DO UPDATE SET heartbeat = now()
            """);
        command.Parameters.AddWithValue("name", Instance);
        command.Parameters.AddWithValue("run", Incarnation);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts or replaces one of this instance's jobs.</summary>
    public async Task WriteAsync(BackupJob job, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand($"""
            INSERT INTO {_schema}.jobs (id, kind, status, instance, incarnation, actor, started, updated, finished,
                stage, progress, backup, error, error_kind, state)
            VALUES (@id, @kind, @status, @instance, @run, @actor, @started, now(), @finished, @stage, @progress,
                @backup, @error, @error_kind, @state)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated = now(), finished = excluded.finished,
                stage = excluded.stage, progress = excluded.progress, backup = excluded.backup,
                error = excluded.error, error_kind = excluded.error_kind, state = excluded.state
            """);
        var p = command.Parameters;
        p.AddWithValue("id", job.Id);
        p.AddWithValue("kind", Name(job.Kind));
        p.AddWithValue("status", Name(job.Status));
        p.AddWithValue("instance", Instance);
        p.AddWithValue("run", Incarnation);
        p.AddWithValue("actor", job.RequestedBy);
        p.AddWithValue("started", job.CreatedAt.UtcDateTime);
        p.AddWithValue("finished", NpgsqlDbType.TimestampTz, (object?)job.FinishedAt?.UtcDateTime ?? DBNull.Value);
        p.AddWithValue("stage", NpgsqlDbType.Text, (object?)job.Progress?.Phase ?? DBNull.Value);
        p.AddWithValue("progress", NpgsqlDbType.Double, (object?)job.Progress?.Fraction ?? DBNull.Value);
        p.AddWithValue("backup", NpgsqlDbType.Text, (object?)job.Filename ?? DBNull.Value);
        p.AddWithValue("error", NpgsqlDbType.Text, (object?)job.Error ?? DBNull.Value);
        p.AddWithValue("error_kind", NpgsqlDbType.Text, job.ErrorKind is { } kind ? Name(kind) : DBNull.Value);
        p.AddWithValue("state", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(job, BackupJson.Compact));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks every unfinished job whose instance has not been heard from within the hand-over time (or runs
    /// again as a new incarnation) as failed, interrupted; returns how many.</summary>
    public async Task<int> MarkInterruptedAsync(CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand($"""
            UPDATE {_schema}.jobs j SET status = 'failed', error_kind = 'interrupted', finished = now(),
                updated = now(), error = format(@message, j.instance)
            WHERE j.finished IS NULL AND NOT EXISTS (SELECT 1 FROM {_schema}.instances i
                WHERE i.incarnation = j.incarnation
                AND i.heartbeat > now() - make_interval(secs => @handover))
            """);
        command.Parameters.AddWithValue("message", InterruptedMessage);
        command.Parameters.AddWithValue("handover", (double)_handoverSeconds);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<BackupJob?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await MarkInterruptedAsync(cancellationToken).ConfigureAwait(false);
        var found = await ReadAsync("j.id = @id", cancellationToken, ("id", id)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>Other incarnations' unfinished jobs, and the state of <paramref name="watched"/>.</summary>
    public async Task<IReadOnlyList<BackupJob>> OthersAsync(IReadOnlyCollection<Guid> watched,
        CancellationToken cancellationToken)
    {
        await MarkInterruptedAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync("j.incarnation <> @run AND (j.finished IS NULL OR j.id = ANY(@watched))",
            cancellationToken, ("run", Incarnation), ("watched", watched.ToArray())).ConfigureAwait(false);
    }

    /// <summary>Forgets finished jobs older than <paramref name="age"/> and instances silent as long.</summary>
    public async Task PruneAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand($"""
            DELETE FROM {_schema}.jobs WHERE finished < now() - make_interval(secs => @age);
            DELETE FROM {_schema}.instances WHERE heartbeat < now() - make_interval(secs => @age);
            """);
        command.Parameters.AddWithValue("age", age.TotalSeconds);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored snapshot, with what the table's columns say about how it ended (an interruption is written
    /// to the columns only).</summary>
    private async Task<List<BackupJob>> ReadAsync(string where, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = _database.CreateCommand(
            $"SELECT state, status, error, error_kind, finished FROM {_schema}.jobs j WHERE {where} ORDER BY started");
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var jobs = new List<BackupJob>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var job = JsonSerializer.Deserialize<BackupJob>(reader.GetString(0), BackupJson.Options)!;
            jobs.Add(job with
            {
                Status = Parse<BackupJobStatus>(reader.GetString(1)),
                Error = reader.IsDBNull(2) ? null : reader.GetString(2),
                ErrorKind = reader.IsDBNull(3) ? null : Parse<BackupErrorKind>(reader.GetString(3)),
                // the snapshot's own time when it has one (the column keeps microseconds only)
                FinishedAt = job.FinishedAt ?? (reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)),
            });
        }
        return jobs;
    }

    private static string Name<T>(T value) where T : struct, Enum =>
        JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    private static T Parse<T>(string name) where T : struct, Enum =>
        Enum.Parse<T>(name.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
