#!/usr/bin/env bash
# The point-in-time part of the benchmark (called by bench/run.sh with its published app, database and cluster; the
# superuser, which has REPLICATION, streams the WAL): BackupManager's base backup against pg_basebackup alone, the WAL
# one clinic day writes, the recovery point when the receiver is killed with kill -9 mid-write, and a restore to a
# time against a restore of a dump backup of the same data. Writes its section of docs/performance.md.
set -euo pipefail
work=$1 db=$2 port=$3 runs=$4 owner=$5
cd "$(dirname "$0")/.."
source bench/lib.sh
app() { dotnet "$work/app/BackupManager.Web.dll" "$@"; }
out=$work/pitr; rm -rf "$out"; mkdir -p "$out"
results=$out/results.tsv; : >"$results"
export Backup__Directory=$out/backups Backup__Pitr__Enabled=true
export Backup__Pitr__Connection="Host=127.0.0.1;Port=$port;Database=$db;Username=postgres;Password=$PG_PASSWORD"
sql() { psql -d "$db" -tAqc "$1"; }
# As the database's owner, whose dump (the app's login) must be able to read what it made.
owner_sql() { PGUSER=$owner PGPASSWORD=$OWNER_PASSWORD psql -d "$db" -tAqc "$1"; }
receiver=
cleanup() {
  [[ -n $receiver ]] && kill -9 "$receiver" 2>/dev/null || true
  sleep 1
  psql -d postgres -qc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
    WHERE slot_name LIKE 'backupmanager_%' AND NOT active" >/dev/null || true
  sql "DROP TABLE IF EXISTS rpo_probe" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# step NAME COMMAND…: wall seconds and peak RSS.
step() {
  local name=$1; shift
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$out/time.txt" bash -c "$*" >/dev/null 2>"$out/stderr.txt" || { cat "$out/stderr.txt" >&2; exit 1; }
  read -r seconds rss_kb <"$out/time.txt"
  printf '%s\t%s\t%s\n' "$name" "$seconds" "$rss_kb" >>"$results"
  echo "  $name: ${seconds}s" >&2
}
start_receiver() {
  # dotnet itself in the background (not the app function's subshell), so $! is the process the kill -9 hits
  dotnet "$work/app/BackupManager.Web.dll" app:receive-wal >"$out/receiver.log" 2>&1 &
  receiver=$!
  for _ in $(seq 1 120); do
    [[ $(psql -d postgres -tAc "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'backupmanager_%' AND active") == 1 ]] && return 0
    sleep 0.5
  done
  echo "app:receive-wal did not start streaming:" >&2; tail -20 "$out/receiver.log" >&2; exit 1
}

echo "Point-in-time recovery ..." >&2
start_receiver
# 1. base backups: ours (pg_basebackup + pg_verifybackup + record) against pg_basebackup alone
for run in $(seq 1 "$runs"); do
  step "BackupManager base backup (pg_basebackup + pg_verifybackup)" "dotnet '$work/app/BackupManager.Web.dll' app:base-backup"
  rm -rf "$out/stock-base"
  step "pg_basebackup -Fp -X stream --checkpoint=fast alone" "PGPASSWORD='$PG_PASSWORD' pg_basebackup -h 127.0.0.1 -p $port -U postgres -D '$out/stock-base' -Fp -X stream --checkpoint=fast"
done
rm -rf "$out/stock-base"
base_bytes=$(du -sb "$(ls -d "$out/backups/pitr/base/"* | tail -1)" | cut -f1)
# 2. the WAL of one clinic day: 1 % of the rows of the two largest tables changed (as the off-site section)
before=$(sql "SELECT pg_current_wal_lsn()")
sql "UPDATE clinical_notes SET body = body || ' (reviewed)' WHERE id % 100 = 0" >/dev/null
sql "UPDATE appointments SET reason = reason || '.' WHERE id % 100 = 0" >/dev/null
sql "VACUUM ANALYZE clinical_notes" >/dev/null; sql "VACUUM ANALYZE appointments" >/dev/null
day_wal=$(sql "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$before')")
# 3. the recovery point: a row every ~50 ms, the receiver killed with kill -9 in the middle of it
owner_sql "CREATE TABLE rpo_probe (id int PRIMARY KEY, at timestamptz NOT NULL)" >/dev/null
: >"$out/acks"
( for i in $(seq 1 100000); do
    owner_sql "INSERT INTO rpo_probe VALUES ($i, clock_timestamp())" >/dev/null && echo "$i $(date +%s.%N)" >>"$out/acks"
    [[ -f $out/stop ]] && break; sleep 0.05
  done ) &
writer=$!
sleep 6
killed=$(date +%s.%N); kill -9 "$receiver"; wait "$receiver" 2>/dev/null || true; receiver=
sleep 1; touch "$out/stop"; wait "$writer"
released=
for _ in $(seq 1 20); do
  [[ $(psql -d postgres -tAc "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'backupmanager_%' AND active") == 0 ]] && { released=1; break; }
  sleep 0.5
done
[[ -n $released ]] || { echo "the slot is still streaming after the kill: the recovery point cannot be measured" >&2; exit 1; }
to=$(app app:pitr-status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["window_to"])')
# 4. a restore to that time (the database only), against a restore of a dump backup of the same data
step "BackupManager restore to a time (copy + recovery + dump + verify + restore)" "dotnet '$work/app/BackupManager.Web.dll' app:restore-backup --to-time '$to' --only-db --force"
kept=$(sql "SELECT coalesce(max(id), 0) FROM rpo_probe")
acked=$(awk -v k="$killed" '$2 <= k' "$out/acks" | wc -l)
rpo=$(awk -v k="$killed" -v kept="$kept" '$1 == kept + 1 && $2 <= k { printf "%.2f", k - $2; found = 1 } END { if (!found) print "0.00" }' "$out/acks")
sql "DROP TABLE rpo_probe" >/dev/null
app app:create-backup --only-db --no-copy >/dev/null 2>&1
dump=$(ls "$out/backups" | grep '^backup-' | tail -1)
step "BackupManager restore of a dump backup (verify + restore)" "dotnet '$work/app/BackupManager.Web.dll' app:restore-backup '$dump' --only-db --force"
psql -d "$db" -qc "VACUUM (FREEZE, ANALYZE)"

# --- the report section ------------------------------------------------------------------------------------------
median() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$results" | sort -g | awk '{ t[NR] = $1 } END { print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }'; }
rss() { awk -F'\t' -v n="$1" '$1 == n { print $3 }' "$results" | sort -g | tail -1 | awk '{ printf "%d", $1 / 1024 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
section=$(mktemp)
{
  echo "<!-- pitr -->"
  echo "## Point-in-time recovery — $(date -u +%Y-%m-%d)"
  echo
  echo "Same machine and database as above ($(mb "$base_bytes") MB as a base backup); base backups: median of $runs runs each; the rest: one run (each step depends on the one before)."
  echo
  echo "| Step | seconds (median) | peak RSS MB |"
  echo "|---|---|---|"
  awk -F'\t' '!seen[$1]++ { print $1 }' "$results" | while read -r name; do
    printf '| %s | %s | %s |\n' "$name" "$(median "$name")" "$(rss "$name")"
  done
  echo
  echo "| Measure | Value |"
  echo "|---|---|"
  echo "| rows acknowledged to the writer before the receiver was killed with kill -9 | $acked |"
  echo "| rows restored (also those committed while the receiver was dying: acknowledged a moment later) | $kept |"
  echo "| recovery point objective measured (ack of the first row lost → kill) | $rpo s (target ≤ 5 s: $(awk -v r="$rpo" 'BEGIN { print (r <= 5) ? "met" : "**missed**" }')) |"
  echo "| WAL of one clinic day (1 % of the rows of the two largest tables changed, then vacuumed) | $(mb "$day_wal") MB |"
  echo
  echo "A restore to a time copies the base backup, replays the WAL since it in a temporary server, dumps the database"
  echo "from it into a normal verified archive and then restores that archive as any restore does (staged, swapped,"
  echo "safety backup): it costs a base-backup copy, the replay and a create more than restoring a dump backup, and"
  echo "buys every second since the last backup. The receiver writes with \`--synchronous\`, so the recovery point is"
  echo "how far the server's WAL flush trails its commits, not a schedule. Our base backup adds \`pg_verifybackup\`"
  echo "(every file read back against SHA-256 checksums) to \`pg_basebackup\`. The WAL figure includes full-page"
  echo "images, so it varies with how soon after a checkpoint the day's writes come (a run on 2026-12-06 under load,"
  echo "right after other writes, measured 157 MB for the same changes)."
  echo
} >"$section"
doc=docs/performance.md
replace_section "<!-- pitr -->" "$section" "$doc"
rm -f "$section"
echo "Wrote the point-in-time section of $doc" >&2
