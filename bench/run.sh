#!/usr/bin/env bash
# The benchmark: BackupManager against the stock tools on the same data, in one run, several times each.
# Writes the table, the machine and the date into docs/performance.md.
#
#   bench/run.sh [--preset small|default|large|clinic] [--runs N] [--only main|offsite|priority|pitr]
#
# small ≈ 100 MB database + 100 MB files (a quick check), default ≈ 1 GB + 1 GB, large ≈ 5.5 GB + 6 GB (the memory check:
# with --preset large only BackupManager is measured — create, restore, a copy off-site and a restore from there — to
# show its peak RSS does not grow with the data).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

preset=default runs=3 only=
while (($#)); do
  case $1 in
    --preset) preset=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--preset small|default|large|clinic] [--runs N] [--only main|offsite|priority|pitr]" >&2; exit 2 ;;
  esac
done
case $preset in
  small) scale=0.1 files_mb=100 ;;
  default) scale=1 files_mb=1000 ;;
  large) scale=6 files_mb=6000 ;;
  # The second data set (issue 26): about 250 MB of database, 500 MB of X-rays that do not compress and 3,000 notes.
  clinic) scale=0.25 files_mb=600 ;;
  *) echo "unknown preset $preset" >&2; exit 2 ;;
esac

ensure_packages postgresql postgresql-client zip unzip zlib1g zstd restic time curl bc age
root=$PWD
work=$root/bench/out/$preset
mkdir -p "$work"
port=55434
start_cluster .data/pg-bench $port
port=$PG_PORT
export PGPASSWORD=$PG_PASSWORD PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
db=clinic_bench_${preset} owner=clinic_owner
source bench/lib.sh

# --- data set -------------------------------------------------------------------------------------------------
# The database belongs to a non-superuser owner, which BackupManager logs in as (as deployed).
clinic_database "$db" "$owner" "$root/.data/pg-bench/owner-password" "$scale"
files=$work/data/clinic-files
if [[ ! -f $work/data/.complete ]]; then
  echo "Generating $files_mb MB of clinic files ..." >&2
  rm -rf "$work/data"; mkdir -p "$files"/{xrays,photos,documents,invoices}
  if [[ $preset == clinic ]]; then
    n=0; while ((n < 125)); do d=$files/xrays/$((2019 + n % 7)); mkdir -p "$d"; head -c 4194304 /dev/urandom >"$d/scan-$n.dcm"; n=$((n + 1)); done
    words=(caries molar crown review pain upper lower left right filling x-ray advice gum bleeding root canal fluoride)
    n=0; while ((n < 3000)); do d=$files/documents/$((n % 60)); mkdir -p "$d"
      for i in $(seq 1 12); do echo "Visit $n.$i: ${words[(n + i) % 17]} ${words[(n * i) % 17]} ${words[(n + 3 * i) % 17]}, patient $((n * 7919 % 100003)) seen by Dr. ${words[i % 17]}."; done >"$d/note-$n.txt"
      head -c $((20000 + n % 20000)) /dev/urandom | base64 -w 100 >>"$d/note-$n.txt"; n=$((n + 1)); done
  else
  image_mb=$((files_mb * 65 / 100)) photo_mb=$((files_mb * 10 / 100)) pdf_mb=$((files_mb * 10 / 100)) doc_mb=$((files_mb * 15 / 100))
  n=0; while ((n * 4 < image_mb)); do d=$files/xrays/$((2019 + n % 7))/$(printf %02d $((1 + n % 12))); mkdir -p "$d"; head -c 4194304 /dev/urandom >"$d/patient-$n-panoramic.dcm"; n=$((n + 1)); done
  n=0; while ((n * 512 < photo_mb * 1024)); do d=$files/photos/$((n % 50)); mkdir -p "$d"; head -c 524288 /dev/urandom >"$d/intraoral-$n.jpg"; n=$((n + 1)); done
  n=0; while ((n * 200 < pdf_mb * 1024)); do d=$files/invoices/$((n % 40)); mkdir -p "$d"; head -c 204800 /dev/urandom >"$d/invoice-$n.pdf"; n=$((n + 1)); done
  template=$(for i in $(seq 1 400); do echo "Line $i: the patient reports mild sensitivity on the upper left molar; advised fluoride and review in six months."; done)
  n=0; while ((n * 45 < doc_mb * 1024)); do d=$files/documents/$((n % 100))/$((n % 7)); mkdir -p "$d"; { echo "Document $n"; echo "$template"; } >"$d/note-$n.txt"; n=$((n + 1)); done
  fi
  touch "$work/data/.complete"
fi
db_bytes=$(psql -d "$db" -tAc "SELECT pg_database_size(current_database())")
files_bytes=$(du -sb "$files" | cut -f1)
file_count=$(find "$files" -type f | wc -l)

# --- the app, published ----------------------------------------------------------------------------------------
echo "Publishing BackupManager (Release) ..." >&2
dotnet publish BackupManager.Web -c Release -r linux-x64 --self-contained false -o "$work/app" -nologo -v q -clp:ErrorsOnly >/dev/null
export ConnectionStrings__Default="Host=127.0.0.1;Port=$port;Database=$db;Username=$owner;Password=$OWNER_PASSWORD"
export Backup__Directory=$work/backups Backup__Paths__0=$files MAX_BACKUPS=100 Backup__SchedulesEnabled=false
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
app() { dotnet "$work/app/BackupManager.Web.dll" "$@"; }

results=$work/results.tsv
: >"$results"
# measure NAME OUTPUT_PATH COMMAND: wall seconds and peak RSS (largest process) with GNU time.
measure() {
  local name=$1 output=$2; shift 2
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  started=$(date +%s.%N)
  /usr/bin/time -f "%e %M" -o "$work/time.txt" bash -c "$*" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
  local size=0
  [[ -n $output && -e $output ]] && size=$(du -sb "$output" | cut -f1)
  read -r seconds rss_kb <"$work/time.txt"
  printf '%s\t%s\t%s\t%s\n' "$name" "$seconds" "$rss_kb" "$size" >>"$results"
  echo "  $name: ${seconds}s, $((rss_kb / 1024)) MB RSS" >&2
}

# A freshly restored database has no hint bits or visibility map yet: whoever reads it next (pg_dump) rewrites every
# page, and autovacuum joins in. Settle it after each restore, outside the timings, so every dump starts alike.
settle() { psql -d "$db" -qc "VACUUM (FREEZE, ANALYZE)" && psql -d postgres -qc CHECKPOINT; }
settle
stock=$work/stock
# Keep these names in step with bench/report.sh.
restore_live="BackupManager restore until the restored state is live (verify + staging + swap)"
restore_whole="BackupManager restore, whole command (+ safety backup of the parked previous state)"
readback="BackupManager create: reading the new backup back before retention (included in the create)"
create_ours() {
  measure "BackupManager create" "$work/backups" "dotnet '$work/app/BackupManager.Web.dll' app:create-backup --priority normal"
  # The command logs each phase with a timestamp; the read-back runs from its phase line to the command's end.
  local at; at=$(grep -m1 'Z Reading the new backup back' "$work/stderr.txt" | cut -d' ' -f1)
  [[ -n $at ]] || { echo "the create did not log its read-back phase" >&2; cat "$work/stderr.txt" >&2; exit 1; }
  printf '%s\t%s\t%s\t0\n' "$readback" "$(echo "$started + $seconds - $(date -d "$at" +%s.%N)" | bc)" "$rss_kb" >>"$results"
}
# What reading the data costs at all: pg_dump -Z0 and tar, both at once, into nothing (tar's own /dev/null shortcut
# would skip reading the files, so through a pipe).
create_limit() { measure "raw-read limit: pg_dump -Fc -Z0 and tar to /dev/null at once" "" "pg_dump -Fc -Z0 -d '$db' -f /dev/null & tar -C '$work/data' -cf - clinic-files | cat >/dev/null; wait"; }
create_floor() { measure "pg_dump -Fc + tar | zstd -1 (stock floor)" "$stock" "pg_dump -Fc -d '$db' -f '$stock/db.dump' && tar -C '$work/data' -cf - clinic-files | zstd -1 -q -o '$stock/files.tar.zst'"; }
create_zip() { measure "pg_dump -Fc + zip -r" "$stock/all.zip" "cd '$work/data' && pg_dump -Fc -d '$db' -f '$stock/zip-db.dump' && zip -r -q '$stock/all.zip' clinic-files '$stock/zip-db.dump'"; }
create_restic() {
  rm -rf "$stock/restic"; RESTIC_PASSWORD=bench restic -r "$stock/restic" init -q >/dev/null
  measure "pg_dump -Fc + restic backup" "$stock/restic" "pg_dump -Fc -d '$db' -f '$stock/restic-db.dump' && RESTIC_PASSWORD=bench restic -r '$stock/restic' backup -q '$stock/restic-db.dump' '$files'"
}
restore_ours() {
  local backup; backup=$(ls "$work/backups" | grep '^backup-' | sed -n 1p)
  measure "$restore_whole" "" "dotnet '$work/app/BackupManager.Web.dll' app:restore-backup '$backup' --force"
  # The command logs each phase with a timestamp; the restored state is live (and the previous one parked) at "Restored;".
  live=$(grep -m1 'Z Restored;' "$work/stderr.txt" | cut -d' ' -f1)
  [[ -n $live ]] || { echo "the restore did not log its 'Restored;' phase" >&2; cat "$work/stderr.txt" >&2; exit 1; }
  settle
  printf '%s\t%s\t%s\t0\n' "$restore_live" "$(echo "$(date -d "$live" +%s.%N) - $started" | bc)" "$rss_kb" >>"$results"
}
restore_stock() {
  rm -rf "$work/restored"
  measure "pg_restore --clean --single-transaction + zstd -d | tar -x" "" "pg_restore --clean --if-exists --single-transaction -d '$db' '$stock/db.dump' && mkdir -p '$work/restored' && zstd -dc '$stock/files.tar.zst' | tar -x -C '$work/restored'"
  settle
}
# Each run measures the creates in a rotated order and alternates the two restores, so no tool is always the one
# that follows the heaviest writes (the previous run's restores): on this VM a create right after gigabytes of writes
# is measurably slower, and the guest cannot empty the host's cache.
# The large preset's memory at size (goal 7 of issue 26): a copy of the backup to an age-encrypted folder destination
# and a restore from there (fetch, decrypt, rebuild, verify, restore), peak RSS of each.
copy_name="BackupManager copy to an encrypted folder destination (first copy)"
fetch_name="BackupManager restore from that destination, whole command (fetch + decrypt + rebuild + restore)"
offsite_ours() {
  local backup; backup=$(ls "$work/backups" | grep '^backup-' | sed -n 1p)
  rm -rf "$work/destination" "$work/key.txt"; mkdir -p "$work/destination"
  age-keygen -o "$work/key.txt" 2>/dev/null
  local env="Backup__Destinations__bench__Type=folder Backup__Destinations__bench__Path='$work/destination'"
  env="$env Backup__Encryption__Recipients__0=$(age-keygen -y "$work/key.txt")"
  measure "$copy_name" "$work/destination" "$env dotnet '$work/app/BackupManager.Web.dll' app:copy-backup '$backup'"
  rm -f "$work/backups"/*
  measure "$fetch_name" "" "$env dotnet '$work/app/BackupManager.Web.dll' app:restore-backup '$backup' --from bench \
    --identity '$work/key.txt' --force"
  settle
  rm -rf "$work/destination"
}
creates=(create_ours create_floor create_zip create_restic create_limit)
asked_runs=$runs
[[ -n $only && $only != main ]] && runs=0
for run in $(seq 1 "$runs"); do
  echo "Run $run/$runs" >&2
  rm -rf "$work/backups" "$stock" "$work/restored"; mkdir -p "$work/backups" "$stock"
  if [[ $preset == large ]]; then create_ours; restore_ours; offsite_ours; continue; fi
  shift_by=$(((run - 1) % ${#creates[@]}))
  for create in "${creates[@]:shift_by}" "${creates[@]:0:shift_by}"; do "$create"; done
  if ((run % 2)); then restore_ours; restore_stock; else restore_stock; restore_ours; fi
done

if [[ $preset != large ]]; then
  [[ -z $only || $only == offsite ]] && bash bench/offsite.sh "$work" "$db" "$files" "$runs"
  [[ -z $only || $only == priority ]] && bash bench/priority.sh "$work" "$db" "$port"
  [[ -z $only || $only == pitr ]] && bash bench/pitr.sh "$work" "$db" "$port" "$asked_runs" "$owner"
fi
[[ -n $only && $only != main ]] && exit 0

if [[ $preset != large ]]; then
  # --- download over loopback HTTP, and listing 1,000 backups ---------------------------------------------------
  echo "Download and list ..." >&2
  app app:create-admin bench@clinic.local <<<"bench-password-$(date +%s%N)" >/dev/null 2>&1 || true
  token=$(app app:create-token bench@clinic.local --name bench)
  export ASPNETCORE_URLS=http://127.0.0.1:5299
  dotnet "$work/app/BackupManager.Web.dll" >"$work/web.log" 2>&1 &
  web=$!
  trap 'kill $web 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do curl -sf http://127.0.0.1:5299/health/live >/dev/null && break; sleep 1; done
  backup=$(ls "$work/backups" | grep '^backup-' | sed -n 1p)
  # Two warm-up downloads (JIT, and on this VM the first touch of freed memory by socket buffers), then at least five.
  for _ in 1 2; do curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:5299/api/v1/backups/download/$backup"; done
  for run in $(seq 1 "$((runs > 5 ? runs : 5))"); do
    speed=$(curl -s -o /dev/null -H "Authorization: Bearer $token" -w '%{speed_download}' "http://127.0.0.1:5299/api/v1/backups/download/$backup")
    printf 'download\t%s\t0\t0\n' "$speed" >>"$results"
  done
  kill $web; wait $web 2>/dev/null || true
  # 1,000 archives in a folder of their own: copies of one small real archive under distinct names.
  many=$work/many-backups; rm -rf "$many"; mkdir -p "$many" "$work/tiny"
  echo tiny >"$work/tiny/a.txt"
  Backup__Directory=$many Backup__Paths__0=$work/tiny app app:create-backup --only-files >/dev/null
  small=$(ls "$many" | grep '^backup-' | sed -n 1p)
  for i in $(seq 1 999); do cp "$many/$small" "$many/$(date -u -d "@$((1700000000 + i * 3600))" +backup-%Y-%m-%d-%H-%M-%S.zip)"; done
  Backup__Directory=$many ASPNETCORE_URLS=http://127.0.0.1:5298 dotnet "$work/app/BackupManager.Web.dll" >"$work/web-list.log" 2>&1 &
  web=$!
  for _ in $(seq 1 60); do curl -sf http://127.0.0.1:5298/health/live >/dev/null && break; sleep 1; done
  # The first request reads the 1,000 summaries into the cache (about 0.35 s); the next two still pay the server's
  # first-request costs (JIT tiering, the token check's first queries: 0.1 s on any endpoint, 404s included). The
  # target is the listing of a running server, so three warm-ups, then at least ten measured requests.
  for _ in 1 2 3; do curl -s -o /dev/null -H "Authorization: Bearer $token" http://127.0.0.1:5298/api/v1/backups; done
  for run in $(seq 1 "$((runs > 10 ? runs : 10))"); do
    seconds=$(curl -s -o "$work/list.json" -H "Authorization: Bearer $token" -w '%{time_total}' http://127.0.0.1:5298/api/v1/backups)
    printf 'list 1000\t%s\t0\t0\n' "$seconds" >>"$results"
  done
  grep -q '"count":1000' "$work/list.json" || { echo "the list did not return 1000 backups" >&2; exit 1; }
  # The history page's data (per day and trigger over ten years, and the drills) with 1,000 backups, then with 10.
  history() { # NAME PORT
    for _ in 1 2 3; do curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$2/api/v1/backups/history?days=3660"; done
    for run in $(seq 1 "$((runs > 10 ? runs : 10))"); do
      printf '%s\t%s\t0\t0\n' "$1" "$(curl -s -o /dev/null -H "Authorization: Bearer $token" -w '%{time_total}' "http://127.0.0.1:$2/api/v1/backups/history?days=3660")" >>"$results"
    done
  }
  history "history 1000" 5298
  kill $web; wait $web 2>/dev/null || true
  ten=$work/ten-backups; rm -rf "$ten"; mkdir -p "$ten"
  # sed, not head: head closes the pipe early, and pipefail then fails the bench on grep's SIGPIPE (now and then).
  ls "$many" | grep '^backup-' | sed -n 1,10p | while read -r f; do cp "$many/$f" "$ten/"; done
  Backup__Directory=$ten ASPNETCORE_URLS=http://127.0.0.1:5297 dotnet "$work/app/BackupManager.Web.dll" >"$work/web-ten.log" 2>&1 &
  web=$!
  for _ in $(seq 1 60); do curl -sf http://127.0.0.1:5297/health/live >/dev/null && break; sleep 1; done
  history "history 10" 5297
  kill $web; wait $web 2>/dev/null || true
fi

bash bench/report.sh "$preset" "$results" "$db_bytes" "$files_bytes" "$file_count" "$runs"
