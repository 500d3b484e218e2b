#!/usr/bin/env bash
# Turns bench/out/<preset>/results.tsv into the tables of docs/performance.md (one section per preset, replaced in place).
set -euo pipefail
preset=$1 results=$2 db_bytes=$3 files_bytes=$4 file_count=$5 runs=$6
cd "$(dirname "$0")/.."
source bench/lib.sh
doc=docs/performance.md

stats() { # NAME → "median min max max_rss_kb median_size" (plain POSIX awk and sort: no gawk needed)
  local rows
  rows=$(awk -F'\t' -v name="$1" '$1 == name' "$results")
  if [[ -z $rows ]]; then echo "- - - 0 0"; return; fi
  local times sizes n rss
  times=$(cut -f2 <<<"$rows" | sort -g)
  sizes=$(cut -f4 <<<"$rows" | sort -g)
  n=$(wc -l <<<"$times")
  rss=$(cut -f3 <<<"$rows" | sort -g | tail -1)
  awk -v n="$n" -v rss="$rss" -v size="$(sed -n "$(((n + 1) / 2))p" <<<"$sizes")" '{ t[NR] = $1 }
    END { m = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2; printf "%.2f %.2f %.2f %.0f %.0f\n", m, t[1], t[n], rss, size }' <<<"$times"
}
row() { # NAME
  read -r median min max rss size <<<"$(stats "$1")"
  [[ $median == - ]] && return
  printf '| %s | %s | %s | %s | %s | %s |\n' "${1//|/\\|}" "$median" "$min" "$max" "$((rss / 1024))" "$(awk -v s="$size" 'BEGIN { printf (s > 0 ? "%.0f" : "—"), s / 1048576 }')"
}
median() { stats "$1" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "—"; else printf "%.2f", a / b }'; }
check() { awk -v v="$1" -v op="$2" -v limit="$3" 'BEGIN { if (v == "—" || v == "-") { print "not measured"; exit } ok = (op == "<=") ? v <= limit : v >= limit; print ok ? "met" : "**missed**" }'; }

create=$(median "BackupManager create")
floor=$(median "pg_dump -Fc + tar | zstd -1 (stock floor)")
limit_name="raw-read limit: pg_dump -Fc -Z0 and tar to /dev/null at once"
raw_limit=$(median "$limit_name")
zip=$(median "pg_dump -Fc + zip -r")
restore_live="BackupManager restore until the restored state is live (verify + staging + swap)"
restore_whole="BackupManager restore, whole command (+ safety backup of the parked previous state)"
restore=$(median "$restore_live")
restore_all=$(median "$restore_whole")
stock_restore=$(median "pg_restore --clean --single-transaction + zstd -d | tar -x")
rss=$(stats "BackupManager create" | cut -d' ' -f4)
rss_restore=$(stats "$restore_whole" | cut -d' ' -f4)
copy_name="BackupManager copy to an encrypted folder destination (first copy)"
fetch_name="BackupManager restore from that destination, whole command (fetch + decrypt + rebuild + restore)"
rss_copy=$(stats "$copy_name" | cut -d' ' -f4) rss_fetch=$(stats "$fetch_name" | cut -d' ' -f4)
download=$(stats download | awk '{ print ($1 == "-") ? "-" : sprintf("%.2f", $1 / 1e9) }')
list_ms=$(stats "list 1000" | awk '{ print ($1 == "-") ? "-" : sprintf("%.1f", $1 * 1000) }')
history_ms=$(stats "history 1000" | awk '{ print ($1 == "-") ? "-" : sprintf("%.1f", $1 * 1000) }')
history10_ms=$(stats "history 10" | awk '{ print ($1 == "-") ? "-" : sprintf("%.1f", $1 * 1000) }')

create_ratio=$(ratio "$create" "$floor")
limit_ratio=$(ratio "$create" "$raw_limit")
zip_speedup=$(ratio "$zip" "$create")
restore_ratio=$(ratio "$restore" "$stock_restore")
restore_all_ratio=$(ratio "$restore_all" "$stock_restore")
rss_mb=$((rss / 1024)) rss_restore_mb=$((rss_restore / 1024))
rss_copy_mb=$((rss_copy / 1024)) rss_fetch_mb=$((rss_fetch / 1024))

section=$(mktemp)
{
  echo "<!-- preset:$preset -->"
  echo "## Preset \`$preset\` — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(. /etc/os-release; echo "$PRETTY_NAME"), PostgreSQL $(psql --version | awk '{print $3}'), .NET $(dotnet --version)."
  echo "Data: database $((db_bytes / 1048576)) MB on disk, $file_count files totalling $((files_bytes / 1048576)) MB (X-rays and photos that do not compress, PDFs, small text notes). $runs runs each, page cache dropped before each run where the machine allows it."
  echo
  echo "| Operation | median s | min s | max s | peak RSS MB | output MB |"
  echo "|---|---|---|---|---|---|"
  for name in "BackupManager create" "BackupManager create: reading the new backup back before retention (included in the create)" "pg_dump -Fc + tar | zstd -1 (stock floor)" "pg_dump -Fc + zip -r" "pg_dump -Fc + restic backup" "$limit_name" \
              "$restore_live" "$restore_whole" "pg_restore --clean --single-transaction + zstd -d | tar -x" \
              "$copy_name" "$fetch_name"; do
    row "$name"
  done
  echo
  echo "| Target | Measured | Result |"
  echo "|---|---|---|"
  if [[ $create_ratio != — ]]; then
    echo "| verified create ≤ 1.0 × stock floor | $create_ratio × | $(check "$create_ratio" '<=' 1.0) |"
    [[ $limit_ratio != — ]] && echo "| verified create ≤ 1.25 × the raw-read limit | $limit_ratio × | $(check "$limit_ratio" '<=' 1.25) |"
    echo "| create ≥ 5 × faster than zip -r | $zip_speedup × | $(check "$zip_speedup" '>=' 5) |"
    echo "| restore ≤ 1.3 × pg_restore + tar -x (until the restored state is live) | $restore_ratio × | $(check "$restore_ratio" '<=' 1.3) |"
    echo "| whole restore command, including the safety backup of the replaced state, against the same stock restore | $restore_all_ratio × | for information: the stock restore keeps no copy of what it replaces |"
  fi
  echo "| peak RSS of create ≤ 250 MB | $rss_mb MB | $(check "$rss_mb" '<=' 250) |"
  ((rss_restore_mb > 0)) && echo "| peak RSS of restore ≤ 250 MB | $rss_restore_mb MB | $(check "$rss_restore_mb" '<=' 250) |"
  ((rss_copy_mb > 0)) && echo "| peak RSS of a copy off-site ≤ 250 MB | $rss_copy_mb MB | $(check "$rss_copy_mb" '<=' 250) |"
  ((rss_fetch_mb > 0)) && echo "| peak RSS of a restore from a destination ≤ 250 MB | $rss_fetch_mb MB |" \
    "$(check "$rss_fetch_mb" '<=' 250) |"
  [[ $download != - ]] && echo "| download over loopback ≥ 1 GB/s | $download GB/s | $(check "$download" '>=' 1) |"
  [[ $list_ms != - ]] && echo "| list 1,000 backups < 100 ms | $list_ms ms | $(check "$list_ms" '<=' 100) |"
  [[ $history_ms != - ]] && echo "| history (GET /api/v1/backups/history) with 1,000 backups < 100 ms, as fast as with 10 | $history_ms ms (10 backups: $history10_ms ms) | $(check "$history_ms" '<=' 100) |"
  echo
} >"$section"

if [[ ! -f $doc ]]; then
  cat >"$doc" <<'HEAD'
# Performance

Measured by `bench/run.sh`, which generates a dental clinic's database and files, runs BackupManager and the stock
tools on the same data in one run (each several times: median, min, max), records wall time, peak RSS of the largest
process (GNU time) and output size, and rewrites its preset's section below. Rerun with:

    bench/run.sh --preset small     # ≈ 100 MB + 100 MB, a couple of minutes
    bench/run.sh                    # default ≈ 1 GB + 1 GB
    bench/run.sh --preset large     # ≈ 5.5 GB + 6 GB, BackupManager only: memory must not grow with the data

The stock floor is what an administrator would script by hand: `pg_dump -Fc` then `tar | zstd -1`. BackupManager's
restore includes what makes it safe — full verification and the staged database and folder swap — and then archives
the state it replaced as a safety backup, while the stock restore does none of that.

HEAD
fi
# Replace this preset's section (from its marker to the next marker or the end).
replace_section "<!-- preset:$preset -->" "$section" "$doc"
rm -f "$section"
echo "Wrote $doc" >&2
