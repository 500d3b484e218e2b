#!/usr/bin/env bash
# Low-priority creates against the clinic's live database (called by bench/run.sh with its published app and data):
# pgbench -S read throughput on a database of the same server, idle, during a normal create, and during low creates
# that follow the server's load at several busy rates (the trade-off curve), against the fixed rate they replaced; each
# create's duration. Writes its section of docs/performance.md.
set -euo pipefail
work=$1 db=$2 port=$3
cd "$(dirname "$0")/.."
source bench/lib.sh
out=$work/priority; rm -rf "$out"; mkdir -p "$out"
export Backup__Directory=$out/backups
bench_db=clinic_pgbench
if [[ $(psql -d postgres -tAc "SELECT count(*) FROM pg_database WHERE datname = '$bench_db'") == 0 ]]; then
  psql -d postgres -qc "CREATE DATABASE $bench_db"
  pgbench -i -s 20 -q "$bench_db" >/dev/null 2>&1
fi
tps() { pgbench -c 4 -j 2 -T "$1" -S -n "$bench_db" 2>/dev/null | awk '/^tps = / { printf "%.0f", $3 }'; }
results=$out/results.tsv; : >"$results"
# One measurement: pgbench for 6 s starting 1 s into a create (every create here lasts longer), and the create's time.
during() { # NAME PRIORITY BYTES_PER_SECOND FOLLOWS_LOAD
  rm -rf "$out/backups"; mkdir -p "$out/backups"
  # No cache drop here: the clinic's database is hot in memory, and pgbench must measure CPU contention, not disk reads.
  # Idle is measured right before each create: on this VM the idle rate drifts by a quarter over minutes.
  sync; local before; before=$(tps 6)
  local started; started=$(date +%s.%N)
  # Information for the engine's categories: the line that counts the switches.
  Backup__LowPriorityBytesPerSecond=$3 Backup__LowPriorityFollowsLoad=$4 Logging__LogLevel__BackupManager=Information \
    dotnet "$work/app/BackupManager.Web.dll" app:create-backup --priority "$2" --no-copy >"$out/create.out" 2>"$out/create.err" &
  local create=$!
  sleep 1
  local measured; measured=$(tps 6)
  wait "$create" || { cat "$out/create.err" >&2; exit 1; }
  local seconds; seconds=$(echo "$(date +%s.%N) - $started" | bc)
  # The create logs how often it switched between the busy rate and full speed (load-following creates only).
  local switches; switches=$(grep -ohP '[0-9]+(?= switches between busy and quiet)' "$out/create.out" "$out/create.err" \
    | head -1 || true)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$measured" "$seconds" "$before" "${switches:-–}" >>"$results"
  echo "  $1: $measured tps (idle just before: $before), create ${seconds}s, switches ${switches:-–}" >&2
}
echo "Low-priority creates against pgbench -S ..." >&2
tps 3 >/dev/null # warm the pgbench tables into the cache
default_mb=$(grep -oP 'LowPriorityBytesPerSecond \{ get; set; \} = \K[0-9]+(?=L << 20;)' BackupManager.Core/BackupOptions.cs)
during "normal" normal 1073741824 true
during "low, following the load, busy ${default_mb} MiB/s (default)" low $((default_mb << 20)) true
for mb in 20 5; do during "low, following the load, busy ${mb} MiB/s" low $((mb << 20)) true; done
# The fixed rate the load-following throttle replaced (issue 18's default), for comparison.
during "low, fixed 20 MiB/s" low $((20 << 20)) false

normal_s=$(awk -F'\t' '$1 == "normal" { print $4 }' "$results")
section=$(mktemp)
{
  echo "<!-- priority -->"
  echo "## Low-priority creates against the live database — $(date -u +%Y-%m-%d)"
  echo
  echo "The clinic's load: \`pgbench -c 4 -j 2 -S\` (read-only, 4 clients) on a scale-20 pgbench database of the same PostgreSQL server, for 6 s starting 1 s into each create of the default preset's data (about 1 GB of database and 1 GB of files), against 6 s idle measured just before that create (the idle rate drifts on this VM by a quarter over minutes). Same machine as above; one run each."
  echo
  echo "| Create | pgbench tps idle just before | tps during it | kept | create s | × normal create | busy/quiet switches |"
  echo "|---|---|---|---|---|---|---|"
  while IFS=$'\t' read -r name priority measured seconds before switches; do
    printf '| %s | %s | %s | %s %% | %.1f | %s | %s |\n' "$name" "$before" "$measured" "$(awk -v a="$measured" -v b="$before" 'BEGIN { printf "%.0f", 100 * a / b }')" "$seconds" "$(awk -v a="$seconds" -v b="$normal_s" 'BEGIN { printf "%.2f", a / b }')" "$switches"
  done <"$results"
  echo
  echo "A low create that follows the load reads at full speed while the server is quiet and at the busy rate (\`Backup__LowPriorityBytesPerSecond\`, default ${default_mb} MiB/s) while others' transactions run (more than \`Backup__LowPriorityBusyTransactionsPerSecond\`, default 50 a second, over the last 1.5 s of \`pg_stat_database\`); it notices pgbench about a second after it starts. \`Backup__LowPriorityFollowsLoad=false\` keeps the fixed rate (last row)."
  echo
} >"$section"
doc=docs/performance.md
replace_section "<!-- priority -->" "$section" "$doc"
rm -f "$section"
echo "Wrote the priority section of $doc" >&2
