using BackupManager.Core.Database;
using Npgsql;

namespace BackupManager.Core.Pitr;

/// <summary>Reads <see cref="PitrStatus"/>: the folders for the window, the server for the slot.</summary>
public sealed class PitrStatusReader(PitrSource source, TimeProvider time, WalReceiver? receiver = null)
{
    /// <summary>The slot's state on the server; throws <see cref="BackupException"/> when it cannot be asked.</summary>
    public async Task<PitrSlotState> ReadSlotAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT s.active, s.active_pid, pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint, "
            + "(SELECT EXTRACT(EPOCH FROM COALESCE(r.flush_lag, interval '0'))::float8 FROM pg_stat_replication r "
            + "WHERE r.pid = s.active_pid) FROM pg_replication_slots s WHERE s.slot_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = source.Layout.SlotName });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return new PitrSlotState(false, false, null, null, null);
        return new PitrSlotState(true, reader.GetBoolean(0), reader.IsDBNull(1) ? null : reader.GetInt32(1),
            reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetDouble(3));
    }

    /// <summary>The other <c>backupmanager_</c> slots no receiver streams from, with the WAL each keeps.</summary>
    public async Task<IReadOnlyList<StaleSlot>> ReadStaleSlotsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots "
            + "WHERE slot_name LIKE 'backupmanager\\_%' AND slot_name <> $1 AND NOT active AND restart_lsn IS NOT NULL "
            + "ORDER BY 2 DESC", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = source.Layout.SlotName });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var slots = new List<StaleSlot>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            slots.Add(new StaleSlot(reader.GetString(0), reader.GetInt64(1)));
        return slots;
    }

    /// <summary>
    /// Slots belong to the server, not a database: ask in the maintenance database, unpooled. A session left in the
    /// clinic's database (say, by a superuser or replication role) would stop a restore's swap, which must end every
    /// session there and may not end another role's.
    /// </summary>
    private Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var target = source.RequireTarget();
        return PgTools.OpenAsync(target, target.ConnectionStringFor(source.Options.MaintenanceDatabase),
            cancellationToken);
    }

    /// <summary>The health checks of <see cref="PitrHealth"/>; none (and no query) while point-in-time recovery is
    /// off.</summary>
    public async Task<IReadOnlyList<Health.BackupCheck>> HealthChecksAsync(CancellationToken cancellationToken) =>
        source.Options.Pitr.Enabled
            ? PitrHealth.Checks(await ReadAsync(cancellationToken).ConfigureAwait(false), source.Options.Pitr)
            : [];

    public async Task<PitrStatus> ReadAsync(CancellationToken cancellationToken)
    {
        PitrSlotState? slot = null;
        IReadOnlyList<StaleSlot> stale = [];
        string? problem = null;
        try
        {
            slot = await ReadSlotAsync(cancellationToken).ConfigureAwait(false);
            stale = await ReadStaleSlotsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BackupException e) { problem = e.Message; }
        var window = PitrWindow.Read(source.Layout, slot?.Active == true, time.GetUtcNow());
        var newest = window.Bases.Count > 0 ? window.Bases[^1] : null;
        var own = receiver?.State;
        var text = slot switch
        {
            null => "unknown (the server could not be asked)",
            { Exists: false } => "no slot yet (the receiver has never run)",
            { Active: true } => $"streaming (pg_receivewal, server pid {slot.ActivePid})",
            _ => "not running: the slot keeps WAL on the server until a receiver reconnects",
        };
        if (own is { Running: true }) text += $"; this process runs it (pid {own.ProcessId})";
        else if (own?.LastError is { } error) text += $"; last error here: {error}";
        var lag = slot?.Active == true ? slot.LagSeconds ?? 0 : window.To is { } to && window.Wal.Count > 0
            ? Math.Max(0, (time.GetUtcNow() - to).TotalSeconds) : (double?)null;
        return new PitrStatus(source.Options.Pitr.Enabled, window.From, window.To, source.Layout.SlotName, text,
            slot?.Active, lag, slot?.RetainedBytes, newest?.Name, newest?.EndedAt, problem) { StaleSlots = stale };
    }
}
