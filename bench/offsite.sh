#!/usr/bin/env bash
# The off-site part of the benchmark (called by bench/run.sh with its published app, database and files): copies to a
# folder destination, encrypted with age, against restic (encrypted, deduplicating) backing up the same dump and files
# to a folder repository. Measures the first copy, a second one with nothing changed, one after 1% of the rows
# changed, and a restore from the destination; writes its own section of docs/performance.md.
set -euo pipefail
work=$1 db=$2 files=$3 runs=$4
cd "$(dirname "$0")/.."
source bench/lib.sh
app() { dotnet "$work/app/BackupManager.Web.dll" "$@"; }
out=$work/offsite; rm -rf "$out"; mkdir -p "$out"
results=$out/results.tsv; : >"$results"
age-keygen -o "$out/key.txt" 2>/dev/null
export Backup__Directory=$out/backups Backup__Destinations__bench__Type=folder Backup__Destinations__bench__Path=$out/destination
export Backup__Encryption__Recipients__0
Backup__Encryption__Recipients__0=$(age-keygen -y "$out/key.txt")
mkdir -p "$out/destination"
bytes() { du -sb "$1" | cut -f1; }
# step NAME COMMAND…: wall seconds, peak RSS and the bytes the destination grew by.
step() {
  local name=$1 dest=$2; shift 2
  local before; before=$(bytes "$dest")
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  started=$(date +%s.%N)
  /usr/bin/time -f "%e %M" -o "$out/time.txt" bash -c "$*" >/dev/null 2>"$out/stderr.txt" || { cat "$out/stderr.txt" >&2; exit 1; }
  read -r seconds rss_kb <"$out/time.txt"
  printf '%s\t%s\t%s\t%s\n' "$name" "$seconds" "$rss_kb" "$(($(bytes "$dest") - before))" >>"$results"
  echo "  $name: ${seconds}s, $(($(bytes "$dest") - before)) bytes" >&2
}
# 1 % of the rows of the two largest tables, spread over the whole table (a day of a busy clinic, and then some); a
# different 1 % each run, since rows changed once sit together at the end of their table afterwards.
change_one_percent() {
  local r=$((RANDOM % 100))
  psql -d "$db" -qc "UPDATE clinical_notes SET body = body || ' (reviewed)' WHERE id % 100 = $r" -c "UPDATE appointments SET reason = reason || '.' WHERE id % 100 = $r"
  psql -d "$db" -qc "VACUUM (FREEZE, ANALYZE)"
}

echo "Off-site copies ..." >&2
export RESTIC_PASSWORD=bench
restic -r "$out/restic" init -q >/dev/null
# 1. first backup
app app:create-backup --priority normal --no-copy >/dev/null 2>&1
first=$(ls "$out/backups" | grep '^backup-' | tail -1)
step "first copy" "$out/destination" "dotnet '$work/app/BackupManager.Web.dll' app:copy-backup"
pg_dump -Fc -d "$db" -f "$out/db.dump"
step "restic: first backup" "$out/restic" "restic -r '$out/restic' backup -q '$out/db.dump' '$files'"
# 2. nothing changed
sleep 1; app app:create-backup --priority normal --no-copy >/dev/null 2>&1
step "second copy, nothing changed" "$out/destination" "dotnet '$work/app/BackupManager.Web.dll' app:copy-backup"
pg_dump -Fc -d "$db" -f "$out/db.dump"
step "restic: second backup, nothing changed" "$out/restic" "restic -r '$out/restic' backup -q '$out/db.dump' '$files'"
# 3. 1% of the rows changed
change_one_percent
sleep 1; app app:create-backup --priority normal --no-copy >/dev/null 2>&1
step "copy after 1% of the rows changed" "$out/destination" "dotnet '$work/app/BackupManager.Web.dll' app:copy-backup"
pg_dump -Fc -d "$db" -f "$out/db.dump"
step "restic: backup after 1% of the rows changed" "$out/restic" "restic -r '$out/restic' backup -q '$out/db.dump' '$files'"
# 4. restore from the destination: fetch, decrypt, rebuild, verify, then the normal restore (of the newest: the
# destination keeps one backup per day, so the earlier ones of today are gone there by now).
newest=$(ls "$out/backups" | grep '^backup-' | tail -1)
rm -f "$out/backups/$newest"
step "restore from the destination (fetch + decrypt + verify + restore)" "$out/backups" "dotnet '$work/app/BackupManager.Web.dll' app:restore-backup '$newest' --from bench --identity '$out/key.txt' --force"
# The command logs each phase with a timestamp; the restored state is live (the previous one parked) at "Restored;".
live=$(grep -m1 'Z Restored;' "$out/stderr.txt" | cut -d' ' -f1)
[[ -n $live ]] || { echo "the restore did not log its 'Restored;' phase" >&2; cat "$out/stderr.txt" >&2; exit 1; }
printf '%s\t%s\t%s\t0\n' "restore from the destination until the restored state is live" \
  "$(printf '%.2f' "$(echo "$(date -d "$live" +%s.%N) - $started" | bc)")" "$(tail -1 "$results" | cut -f3)" >>"$results"
psql -d "$db" -qc "VACUUM (FREEZE, ANALYZE)"
rm -rf "$out/restic-restore"
step "restic restore + pg_restore --clean --single-transaction" "$out" "restic -r '$out/restic' restore latest -q --target '$out/restic-restore' && pg_restore --clean --if-exists --single-transaction -d '$db' \$(find '$out/restic-restore' -name db.dump)"
psql -d "$db" -qc "VACUUM (FREEZE, ANALYZE)"
archive_bytes=$(stat -c %s "$out/backups/$newest")

# --- the report section ------------------------------------------------------------------------------------------
get() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$results"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
first_bytes=$(get "first copy" 4); first_s=$(get "first copy" 2)
second_bytes=$(get "second copy, nothing changed" 4)
changed_bytes=$(get "copy after 1% of the rows changed" 4)
preset=$(basename "$work")
marker="<!-- offsite -->"; [[ $preset == default ]] || marker="<!-- offsite:$preset -->"
section=$(mktemp)
{
  echo "$marker"
  echo "## Off-site copies, preset \`$preset\` (folder destination, age-encrypted) — $(date -u +%Y-%m-%d)"
  echo
  echo "Same machine and data as the preset \`$preset\`; one run (each step depends on the one before). The archive is $(mb "$archive_bytes") MB."
  echo "\"Sent\" is what the destination (or restic's repository) grew by. restic backs up the same \`pg_dump -Fc\` output and files."
  echo
  echo "| Step | seconds | peak RSS MB | sent MB |"
  echo "|---|---|---|---|"
  while IFS=$'\t' read -r name seconds rss sent; do
    printf '| %s | %s | %s | %s |\n' "$name" "$seconds" "$((rss / 1024))" "$(mb "$sent")"
  done <"$results"
  echo
  echo "| Target | Measured | Result |"
  echo "|---|---|---|"
  pct=$(awk -v a="$second_bytes" -v b="$first_bytes" 'BEGIN { printf "%.2f", 100 * a / b }')
  ratio_row() { # TARGET OURS THEIRS LIMIT UNIT
    awk -v t="$1" -v a="$2" -v b="$3" -v l="$4" -v u="$5" 'BEGIN { r = a / b
      printf "| %s | %s against %s %s = %.2f × | %s |\n", t, a, b, u, r, (r <= l) ? "met" : "**missed**" }'
  }
  ratio_row "first copy ≤ 1.0 × restic's whole first backup" "$first_s" "$(get "restic: first backup" 2)" 1.0 s
  ratio_row "sent after 1 % of the rows changed ≤ 1.5 × restic" "$(mb "$changed_bytes")" \
    "$(mb "$(get "restic: backup after 1% of the rows changed" 4)")" 1.5 MB
  ratio_row "sent with nothing changed ≤ restic" "$(mb "$second_bytes")" \
    "$(mb "$(get "restic: second backup, nothing changed" 4)")" 1.0 MB
  ratio_row "restore from the destination until live ≤ 1.3 × restic restore + pg_restore" \
    "$(get "restore from the destination until the restored state is live" 2)" \
    "$(get "restic restore + pg_restore --clean --single-transaction" 2)" 1.3 s
  echo "| second copy of an unchanged library < 5 % of the first | $pct % | $(awk -v p="$pct" 'BEGIN { print (p < 5) ? "met" : "**missed**" }') |"
  echo "| copy throughput to a folder destination (first copy) | $(awk -v b="$first_bytes" -v s="$first_s" 'BEGIN { printf "%.0f", b / 1048576 / s }') MB/s | for information |"
  echo
  echo "The dump is deflated at level 6 in chunks that end where its content says (at least 256 KiB, about 3/4 MiB
of dump on average, at most 4 MiB), and each off-site piece of it ends where such a chunk ends: rows that changed
change only their chunks' pieces. pg_dump's header (its timestamp) and the manifest's first lines are chunks and
pieces of their own, so an unchanged database sends those two heads, the manifest's last piece (the new dump's
hash), the index and the catalog. Small files travel in packs of up to 1 MiB, large ones are deduplicated whole.
Up to 4 pieces upload at once, and a folder destination flushes them with one syncfs before the catalog. \"Until live\" is when the restore logs *Restored;* (the staged copies swapped in); the whole command
then also archives the replaced state as a safety backup, which restic's line does not do."
  echo
} >"$section"
doc=docs/performance.md
replace_section "$marker" "$section" "$doc"
rm -f "$section"
echo "Wrote the off-site section of $doc" >&2
