#!/usr/bin/env bash
# Memory at many files (issue 26, goal 7): peak RSS and time of a files-only create, verify, restore, copy to an
# age-encrypted folder destination and restore from there, of FILES tiny files (a clinic's notes and scans over the
# years), for the current tree and, with --baseline, another commit.
#
#   bench/many-files.sh [--files N] [--baseline COMMIT]
#
# Prints one line per build and step; docs/performance.md quotes it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

count=200000 baseline=
while (($#)); do
  case $1 in
    --files) count=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    *) echo "usage: bench/many-files.sh [--files N] [--baseline COMMIT]" >&2; exit 2 ;;
  esac
done
ensure_packages postgresql postgresql-client time python3 age
root=$PWD work=$PWD/bench/out/many-files
mkdir -p "$work"
start_cluster .data/pg-many 55438
export PGPASSWORD=$PG_PASSWORD PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres
source bench/lib.sh
db=clinic_many owner=clinic_owner
# The owner role BackupManager logs in as (as deployed); the data set's database at a tiny scale, as the create is
# files-only.
clinic_database "$db" "$owner" "$root/.data/pg-many/owner-password" 0.01
files=$work/files-$count
if [[ ! -f $files.complete ]]; then
  echo "Writing $count small files ..." >&2
  rm -rf "$files"
  python3 - "$files" "$count" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    folder = f"{root}/patients/{i // 1000:04d}/{(i // 100) % 10}"
    if i % 100 == 0: os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/note-{i:07d}.txt", "w") as note: note.write(f"patient {i} note " * 10)
PY
  touch "$files.complete"
fi
echo "Publishing ..." >&2
publish_builds "$root" "$work" "$baseline"

export ConnectionStrings__Default="Host=127.0.0.1;Port=$PG_PORT;Database=$db;Username=$owner;Password=$OWNER_PASSWORD"
export Backup__Paths__0=$files Backup__SchedulesEnabled=false MAX_BACKUPS=100
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
builds=(current); [[ -n $baseline ]] && builds+=(baseline)
for build in "${builds[@]}"; do
  export Backup__Directory=$work/backups-$build
  rm -rf "$Backup__Directory"; mkdir -p "$Backup__Directory"
  app=(dotnet "$work/app-$build/BackupManager.Web.dll")
  step() { # step NAME COMMAND...: wall seconds and peak RSS with GNU time
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" \
      || { cat "$work/stderr.txt" >&2; exit 1; }
    read -r seconds rss_kb <"$work/time.txt"
    printf '%-8s %-8s %8.2f s %6d MB\n' "$build" "$name" "$seconds" "$((rss_kb / 1024))"
  }
  step create "${app[@]}" app:create-backup --only-files
  backup=$(ls "$Backup__Directory" | grep '^backup-' | sed -n 1p)
  step verify "${app[@]}" app:verify-backup "$backup"
  step restore "${app[@]}" app:restore-backup "$backup" --only-files --force
  rm -rf "$work/destination" "$work/key.txt"; mkdir -p "$work/destination"
  age-keygen -o "$work/key.txt" 2>/dev/null
  Backup__Encryption__Recipients__0=$(age-keygen -y "$work/key.txt") Backup__Destinations__bench__Type=folder \
    Backup__Destinations__bench__Path=$work/destination step copy "${app[@]}" app:copy-backup "$backup"
  rm -f "$Backup__Directory"/backup-*
  Backup__Encryption__Recipients__0=$(age-keygen -y "$work/key.txt") Backup__Destinations__bench__Type=folder \
    Backup__Destinations__bench__Path=$work/destination step fetch "${app[@]}" app:restore-backup "$backup" \
    --from bench --identity "$work/key.txt" --only-files --force
  rm -rf "$work/destination"
done
stop_cluster "$root/.data/pg-many"
