#!/usr/bin/env bash
# Verify's cost, small and quick: one backup of about 600 MB of files (random, base64 text and log-like text) and an
# empty database, then `app:verify-backup` timed RUNS times per build, cold page cache, builds alternating.
#
#   bench/verify-inflate.sh [--runs N] [--baseline COMMIT]   # COMMIT: a second build to compare (a git worktree)
#
# Prints one line per run and the median per build; docs/performance.md quotes it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/lib.sh

runs=3 baseline=
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    *) echo "usage: bench/verify-inflate.sh [--runs N] [--baseline COMMIT]" >&2; exit 2 ;;
  esac
done
ensure_packages postgresql postgresql-client zlib1g time
root=$PWD work=$PWD/bench/out/verify-inflate
mkdir -p "$work"
start_cluster .data/pg-verify 55436
create_database "$PG_PORT" clinic_verify

files=$work/data
if [[ ! -f $work/data.complete ]]; then
  echo "Generating about 600 MB of files ..." >&2
  rm -rf "$files"; mkdir -p "$files"
  for n in 1 2 3; do head -c 52428800 /dev/urandom >"$files/scan-$n.dat"; done
  for n in 1 2 3; do head -c 37748736 /dev/urandom | base64 >"$files/export-$n.txt"; done
  seq 1 4000000 | awk '{ printf "%08d visit patient-%d tooth %d note: sensitivity %s, review in %d months\n",
    $1, $1 % 9973, $1 % 32, ($1 % 3 ? "mild" : "none"), $1 % 12 }' >"$files/visits.log"
  touch "$work/data.complete"
fi

echo "Publishing the current tree${baseline:+ and $baseline} ..." >&2
builds=(current)
publish_builds "$root" "$work" "$baseline"
[[ -z $baseline ]] || builds=(baseline current)

export ConnectionStrings__Default="Host=127.0.0.1;Port=$PG_PORT;Database=clinic_verify;Username=postgres;Password=$PG_PASSWORD"
export Backup__Directory=$work/backups Backup__Paths__0=$files Backup__SchedulesEnabled=false
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
rm -rf "$work/backups"; mkdir -p "$work/backups"
backup=$(dotnet "$work/app-current/BackupManager.Web.dll" app:create-backup --priority normal)
echo "Backup: $backup, $(du -m "$work/backups/$backup" | cut -f1) MB, files $(du -sm "$files" | cut -f1) MB" >&2

: >"$work/times.tsv"
for run in $(seq 1 "$runs"); do
  for build in "${builds[@]}"; do
    sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
    /usr/bin/time -f %e -o "$work/time.txt" dotnet "$work/app-$build/BackupManager.Web.dll" \
      app:verify-backup "$backup" >/dev/null
    printf '%s\t%s\n' "$build" "$(cat "$work/time.txt")" | tee -a "$work/times.tsv"
  done
done
for build in "${builds[@]}"; do
  awk -v b="$build" '$1 == b { print $2 }' "$work/times.tsv" | sort -n \
    | awk -v b="$build" '{ t[NR] = $1 } END { printf "%s: median %.2f s (min %.2f, max %.2f, %d runs)\n",
      b, t[int((NR + 1) / 2)], t[1], t[NR], NR }'
done
