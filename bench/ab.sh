#!/usr/bin/env bash
# Before and after a restructuring: create, verify and restore timed for two builds on the same data, alternating, so
# load and cache effects fall on both alike. Data: bench/dataset.sql at SCALE plus FILES_MB of clinic-like files.
#
#   bench/ab.sh --baseline COMMIT [--runs N] [--scale S] [--files-mb M]
#
# Prints one line per run and the median per build and step; docs/performance.md quotes it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

runs=3 baseline= scale=0.3 files_mb=300
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --files-mb) files_mb=$2; shift 2 ;;
    *) echo "usage: bench/ab.sh --baseline COMMIT [--runs N] [--scale S] [--files-mb M]" >&2; exit 2 ;;
  esac
done
[[ -n $baseline ]] || { echo "bench/ab.sh: --baseline COMMIT is required (the build to compare with)" >&2; exit 2; }
ensure_packages postgresql postgresql-client time
root=$PWD work=$PWD/bench/out/ab
mkdir -p "$work"
start_cluster .data/pg-ab 55437
export PGPASSWORD=$PG_PASSWORD PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres
source bench/lib.sh
db=clinic_ab owner=clinic_owner
# The database belongs to a non-superuser owner, which BackupManager logs in as (as deployed).
clinic_database "$db" "$owner" "$root/.data/pg-ab/owner-password" "$scale"
files=$work/data
scan_and_note_files "$files" "$files_mb"

echo "Publishing the current tree and $baseline ..." >&2
publish_builds "$root" "$work" "$baseline"

export ConnectionStrings__Default="Host=127.0.0.1;Port=$PG_PORT;Database=$db;Username=$owner;Password=$OWNER_PASSWORD"
export Backup__Paths__0=$files Backup__SchedulesEnabled=false MAX_BACKUPS=100
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
timed() { # STEP BUILD COMMAND...: one cold-cache run, appended to times.tsv
  local step=$1 build=$2; shift 2
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" \
    || { echo "$build $step failed:" >&2; cat "$work/err.txt" >&2; exit 1; }
  read -r seconds rss <"$work/time.txt"
  printf '%s\t%s\t%s\t%s\n' "$step" "$build" "$seconds" "$((rss / 1024))" | tee -a "$work/times.tsv"
}
: >"$work/times.tsv"
for run in $(seq 1 "$runs"); do
  order=(baseline current); ((run % 2)) || order=(current baseline)
  for build in "${order[@]}"; do
    export Backup__Directory=$work/backups-$build
    rm -rf "$Backup__Directory"; mkdir -p "$Backup__Directory"
    app=("dotnet" "$work/app-$build/BackupManager.Web.dll")
    timed create "$build" "${app[@]}" app:create-backup --priority normal
    backup=$(tail -1 "$work/out.txt")
    timed verify "$build" "${app[@]}" app:verify-backup "$backup"
    timed restore "$build" "${app[@]}" app:restore-backup "$backup" --force
    psql -d "$db" -qc "VACUUM ANALYZE" # a restored database is settled before the next dump, as in bench/run.sh
  done
done
echo "step	build	median s (min–max)	peak RSS MB of the median run"
for step in create verify restore; do
  for build in baseline current; do
    awk -F'\t' -v s="$step" -v b="$build" '$1 == s && $2 == b { print $3, $4 }' "$work/times.tsv" | sort -n \
      | awk -v s="$step" -v b="$build" '{ t[NR] = $1; r[NR] = $2 } END {
          printf "%s\t%s\t%.2f (%.2f–%.2f)\t%d\n", s, b, t[int((NR + 1) / 2)], t[1], t[NR], r[int((NR + 1) / 2)] }'
  done
done
