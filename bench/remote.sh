#!/usr/bin/env bash
# Off-site copies to remote servers on 127.0.0.1 (issue 26, goal 1): the first copy of one backup to npm's s3rver (S3,
# SigV4 checked) and to OpenSSH's sftp, one piece at a time and Backup__Destinations__<name>__Parallel=4, against
# restic's first backup of the same pg_dump output and files over sftp, and the same copy to a folder. (restic 0.14
# cannot use s3rver: its client signs uploads over plain HTTP as aws-chunked streams, which s3rver 3.7.1 stores
# undecoded, so restic's own config reads back as garbage.)
# Run after `bench/run.sh --preset P --only offsite` (it uses that run's backup, dump, key and published app):
#
#   bench/remote.sh [--preset clinic|default] [--runs N]
#
# Writes its own section of docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source bench/lib.sh

preset=clinic runs=1
while (($#)); do
  case $1 in
    --preset) preset=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/remote.sh [--preset clinic|default] [--runs N]" >&2; exit 2 ;;
  esac
done
ensure_packages restic time openssh-server openssh-client age
work=$PWD/bench/out/$preset src=$PWD/bench/out/$preset/offsite
[[ -f $src/key.txt && -f $src/db.dump && -f $work/app/BackupManager.Web.dll ]] || { echo "bench/remote.sh: run bench/run.sh --preset $preset --only offsite first (its backup, dump and app are used)" >&2; exit 2; }
archive=$(ls "$src/backups" | grep '^backup-' | tail -1)
files=$work/data/clinic-files
out=$work/remote; rm -rf "$out"; mkdir -p "$out"
results=$out/results.tsv; : >"$results"

stop_pidfile "$PWD/.data/bench-s3rver/pid"; rm -rf .data/bench-s3rver/data # every run starts empty
start_s3rver .data/bench-s3rver 54480 bench
start_sshd .data/bench-sshd 54422
trap 'stop_pidfile "$PWD/.data/bench-s3rver/pid"; stop_pidfile "$PWD/.data/bench-sshd/sshd.pid"' EXIT
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production Backup__SchedulesEnabled=false
export Backup__Encryption__Recipients__0
Backup__Encryption__Recipients__0=$(age-keygen -y "$src/key.txt")
# s3rver's fixed test credentials (restic reads them from the environment).
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER RESTIC_PASSWORD=bench

# measure NAME COMMAND…: wall seconds and peak RSS.
measure() {
  local name=$1; shift
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "%e %M" -o "$out/time.txt" bash -c "$*" >/dev/null 2>"$out/stderr.txt" \
    || { cat "$out/stderr.txt" >&2; exit 1; }
  read -r seconds rss_kb <"$out/time.txt"
  printf '%s\t%s\t%s\n' "$name" "$seconds" "$rss_kb" >>"$results"
  echo "  $name: ${seconds}s, $((rss_kb / 1024)) MB RSS" >&2
}
# copy KIND PARALLEL RUN: the first copy of the archive, alone in a fresh backup folder, to a fresh place at KIND.
copy() {
  local kind=$1 parallel=$2 run=$3 where="$preset-$1-$2-$3"
  rm -rf "$out/backups"; mkdir -m 700 "$out/backups"; cp "$src/backups/$archive" "$out/backups/"
  local d=Backup__Destinations__$kind
  local env=("Backup__Directory=$out/backups" "${d}__Type=$kind" "${d}__Parallel=$parallel")
  case $kind in
    folder) mkdir -p "$out/folder-$where"; env+=("${d}__Path=$out/folder-$where") ;;
    s3) env+=("${d}__ServiceUrl=http://127.0.0.1:$S3_PORT" "${d}__Region=us-east-1" "${d}__Bucket=bench"
          "${d}__Prefix=$where/" "${d}__ForcePathStyle=true" "${d}__AccessKeyId=S3RVER" "${d}__SecretAccessKey=S3RVER") ;;
    sftp) env+=("${d}__Host=127.0.0.1" "${d}__Port=$SFTP_PORT" "${d}__Username=root"
            "${d}__PrivateKeyFile=$PWD/.data/bench-sshd/client_key" "${d}__HostKeySha256=$SFTP_HOST_KEY_SHA256"
            "${d}__Path=$out/sftp-$where") ;;
  esac
  # In the environment, not on a command line (the S3 key is s3rver's fixed test key, but still).
  (export "${env[@]}"; measure "$kind, $parallel at once" "dotnet '$work/app/BackupManager.Web.dll' app:copy-backup")
  # Measured: drop the copy, so three runs of the default preset fit on the disk (s3rver keeps a prefix as folders).
  rm -rf "$out/folder-$where" "$out/sftp-$where" "$PWD/.data/bench-s3rver/data/bench/$where"
}
restic_sftp() { # RUN
  local repo=sftp:root@127.0.0.1:$out/restic-sftp-$1
  local ssh="ssh -i $PWD/.data/bench-sshd/client_key -p $SFTP_PORT -o StrictHostKeyChecking=no"
  ssh+=" -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 -s sftp"
  restic -r "$repo" -o sftp.command="$ssh" init -q >/dev/null
  measure "restic: first backup to sftp" "restic -r '$repo' -o sftp.command='$ssh' backup -q '$src/db.dump' '$files'"
  rm -rf "$out/restic-sftp-$1"
}

echo "Off-site copies to remote servers ($archive) ..." >&2
for run in $(seq 1 "$runs"); do
  copy folder 4 "$run"
  for kind in s3 sftp; do
    copy "$kind" 1 "$run"
    copy "$kind" 4 "$run"
  done
  restic_sftp "$run"
done

# --- the report section ------------------------------------------------------------------------------------------
median() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peak() { awk -F'\t' -v n="$1" '$1 == n && $3 > m { m = $3 } END { print int(m / 1024) }' "$results"; }
marker="<!-- remote:$preset -->"
section=$(mktemp)
{
  echo "$marker"
  echo "## Off-site copies to remote servers, preset \`$preset\` — $(date -u +%Y-%m-%d)"
  echo
  echo "\`bench/remote.sh --preset $preset --runs $runs\`: the first copy of $archive ($(stat -c %s "$src/backups/$archive" \
    | awk '{ printf "%.1f", $1 / 1048576 }') MB, age-encrypted) to s3rver and to OpenSSH's sftp, both on 127.0.0.1 on"
  echo "this machine (so they share its 2 cores with the copy), against restic's first backup over sftp of the same \`pg_dump -Fc\`"
  echo "output and files. Median of $runs run(s); peak RSS is the largest of them."
  echo
  echo "| Step | seconds | peak RSS MB |"
  echo "|---|---|---|"
  for name in "folder, 4 at once" "s3, 1 at once" "s3, 4 at once" "sftp, 1 at once" "sftp, 4 at once" \
    "restic: first backup to sftp"; do
    echo "| $name | $(median "$name") | $(peak "$name") |"
  done
  echo
  echo "| Target | Measured | Result |"
  echo "|---|---|---|"
  awk -v a="$(median "sftp, 4 at once")" -v b="$(median "restic: first backup to sftp")" 'BEGIN { r = a / b
    printf "| first copy over sftp ≤ 1.0 × restic'"'"'s first backup there | %s against %s s = %.2f × | %s |\n",
      a, b, r, (r <= 1.0) ? "met" : "**missed**" }'
  for kind in s3 sftp; do
    awk -v k="$kind" -v a="$(median "$kind, 1 at once")" -v b="$(median "$kind, 4 at once")" 'BEGIN {
      printf "| %s: 4 pieces at once against 1 | %s against %s s = %.2f × faster | for information |\n", k, b, a, a / b }'
  done
  echo
  echo "restic 0.14 cannot use s3rver (its uploads over plain HTTP are aws-chunked streams, which s3rver 3.7.1 stores"
  echo "undecoded), so S3 has no restic line; s3rver itself, a Node.js server on the same 2 cores, is most of that time."
  echo
} >"$section"
replace_section "$marker" "$section" docs/performance.md
rm -f "$section"
echo "Wrote the remote section of docs/performance.md" >&2
