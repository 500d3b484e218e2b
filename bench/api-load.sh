#!/usr/bin/env bash
# The API under load during a create (issue 26, goal 6): CLIENTS concurrent clients × REQUESTS GET /api/v1/backups each
# (bench/ApiLoad, a closed-loop driver over keep-alive connections), once idle and once during a create started through
# the API (POST /api/v1/backups, normal priority, then low). Errors, p50, p95, p99, max. With --baseline COMMIT, that
# build is measured too, alternating with the current tree round by round in this one run, so load from elsewhere on
# the machine falls on both alike. Data: bench/dataset.sql at SCALE plus FILES_MB of clinic-like files, and a few
# existing backups. Writes its section of docs/performance.md.
#
#   bench/api-load.sh [--baseline COMMIT] [--rounds N] [--clients C] [--requests R] [--scale S] [--files-mb M]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
usage="usage: bench/api-load.sh [--baseline COMMIT] [--rounds N] [--clients C] [--requests R] [--scale S] [--files-mb M]"
rounds=3 baseline= clients=50 requests=30 scale=0.3 files_mb=300
command_line="bench/api-load.sh $*"
while (($#)); do
  case $1 in
    --baseline) baseline=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --files-mb) files_mb=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
ensure_packages postgresql postgresql-client curl
root=$PWD work=$PWD/bench/out/api-load
mkdir -p "$work"
start_cluster .data/pg-api 55441
export PGPASSWORD=$PG_PASSWORD PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres
source bench/lib.sh
db=clinic_api owner=clinic_owner
# The database belongs to a non-superuser owner, which BackupManager logs in as (as deployed).
clinic_database "$db" "$owner" "$root/.data/pg-api/owner-password" "$scale"
files=$work/data
scan_and_note_files "$files" "$files_mb"

echo "Publishing the current tree${baseline:+ and $baseline} and the load driver ..." >&2
builds=(current)
publish_builds "$root" "$work" "$baseline"
[[ -z $baseline ]] || builds=(baseline current)
dotnet build bench/ApiLoad -c Release -o "$work/driver" -nologo -v q -clp:ErrorsOnly >/dev/null

export ConnectionStrings__Default="Host=127.0.0.1;Port=$PG_PORT;Database=$db;Username=$owner;Password=$OWNER_PASSWORD"
export Backup__Paths__0=$files Backup__SchedulesEnabled=false MAX_BACKUPS=100
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
# All clients share 127.0.0.1, where each stands for a host of its own: lift the per-address bearer budget (600/min).
export Backup__TokenRequestsPerMinute=1000000
seeds=$work/seed-backups
app() { Backup__Directory=$seeds dotnet "$work/app-current/BackupManager.Web.dll" "$@"; }
if [[ ! -f $seeds.complete ]]; then
  echo "Creating the existing backups ..." >&2
  rm -rf "$seeds"; mkdir -p "$seeds"
  for _ in 1 2 3; do app app:create-backup --priority normal --no-copy >/dev/null; done
  touch "$seeds.complete"
fi
email=api-load@clinic.local
app app:create-admin "$email" <<<"api-load-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >/dev/null 2>&1 \
  || true # made by an earlier run
API_LOAD_TOKEN=$(app app:create-token "$email" --name "api-load $(date -u +%FT%TZ)")
export API_LOAD_TOKEN
# curl reads the header from a 0600 file: the token never appears in a process's arguments.
auth=$work/auth-header
(umask 077 && printf 'Authorization: Bearer %s\n' "$API_LOAD_TOKEN" >"$auth")

web=
stop_web() { [[ -n $web ]] && { kill "$web" 2>/dev/null || true; wait "$web" 2>/dev/null || true; }; web=; }
trap stop_web EXIT
start_web() { # BUILD: the build's app on a free port, its backup folder holding only the existing backups
  export Backup__Directory=$work/backups-$1
  rm -rf "$Backup__Directory"; mkdir -p "$Backup__Directory"; cp "$seeds"/backup-*.zip "$seeds/.signing-key" \
    "$Backup__Directory/" # with the key that signed them: they are this installation's own
  port=5310; while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  base=http://127.0.0.1:$port
  ASPNETCORE_URLS=$base dotnet "$work/app-$1/BackupManager.Web.dll" >"$work/web-$1.log" 2>&1 &
  web=$!
  for _ in $(seq 1 120); do curl -sf "$base/health/live" >/dev/null && break; sleep 0.5; done
  # Warm-up, not measured: the summary cache, the connection pool, and JIT tiering, which keeps recompiling hot
  # methods for the first few thousand requests (a 50 × 30 load took 9.6, 7.0, 5.6, 5.9, 4.7 s back to back).
  for _ in 1 2 3; do dotnet "$work/driver/ApiLoad.dll" "$base/api/v1/backups" "$clients" "$requests" >/dev/null; done
}
job_status() { curl -sf -H @"$auth" "$base/api/v1/backups/jobs/$1" | grep -oP '"status":"\K[a-z]+'; }
results=$work/results.tsv; : >"$results"
# The floor: the same load, without a token, on a route with no sign-in, no audit and no work: what the machine allows.
floor="idle, GET /health/live (the floor)"
measure() { # BUILD SCENARIO [PRIORITY]: one load, idle or during a create of PRIORITY
  local line inside=- seconds=- job started
  if [[ $2 == $floor ]]; then
    line=$(API_LOAD_ANONYMOUS=1 dotnet "$work/driver/ApiLoad.dll" "$base/health/live" "$clients" "$requests")
  elif [[ -z ${3:-} ]]; then
    line=$(dotnet "$work/driver/ApiLoad.dll" "$base/api/v1/backups" "$clients" "$requests")
  else
    started=$(date +%s.%N)
    job=$(curl -sf -H @"$auth" -H 'Content-Type: application/json' -d "{\"priority\":\"$3\"}" \
      "$base/api/v1/backups" | grep -oP '"id":"\K[0-9a-f-]+')
    sleep 1 # the create is past its start (lock taken, pg_dump running)
    line=$(dotnet "$work/driver/ApiLoad.dll" "$base/api/v1/backups" "$clients" "$requests")
    # Whether the whole load fell inside the create; a load that outlasted it says so in the table.
    [[ $(job_status "$job") == running ]] && inside=yes || inside=no
    local status
    while status=$(job_status "$job") && [[ $status == queued || $status == running ]]; do sleep 0.5; done
    [[ $status == succeeded ]] || { echo "the create failed ($status); see $work/web-$1.log" >&2; exit 1; }
    seconds=$(echo "$(date +%s.%N) - $started" | bc)
    # Keep the folder as it was, so every round lists the same backups.
    local made; made=$(curl -sf -H @"$auth" "$base/api/v1/backups/jobs/$job" | grep -oP '"filename":"\K[^"]+')
    curl -sf -o /dev/null -X DELETE -H @"$auth" "$base/api/v1/backups/$made"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$line" "$inside" "$seconds" | tee -a "$results" >&2
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$rounds"); do
  order=("${builds[@]}"); ((round % 2)) || order=($(printf '%s\n' "${builds[@]}" | tac))
  for build in "${order[@]}"; do
    echo "Round $round/$rounds, $build" >&2
    start_web "$build"
    measure "$build" "$floor"
    measure "$build" idle
    measure "$build" "during a normal create" normal
    measure "$build" "during a low-priority create" low
    stop_web
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

section=$(mktemp)
{
  echo "<!-- api-load -->"
  echo "## The API under load during a create — $(date -u +%Y-%m-%d)"
  echo
  echo "\`$command_line\`: $clients clients × $requests \`GET /api/v1/backups\` each (bearer token, one keep-alive" \
    "connection per client, each request sent when the previous one is answered), idle and starting 1 s into a" \
    "create started with \`POST /api/v1/backups\`, after three unmeasured loads of the same shape (a running" \
    "server is warm). Data: bench/dataset.sql at scale $scale, $files_mb MB of files," \
    "$(ls "$seeds" | grep -c '^backup-') existing backups. $rounds round(s); builds alternate round by round." \
    "Figures: the median over the rounds (p99 also as min–max); errors summed; max the largest seen." \
    "Load average (1, 5, 15 min) before: $load_before, after: $load_after on $(nproc) cores."
  echo
  echo "| Build | Load | requests | errors | p50 ms | p95 ms | p99 ms (min–max) | max ms | load inside the create | create s |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for build in "${builds[@]}"; do
    label=$build
    [[ $build == baseline ]] && label="baseline ($(git rev-parse --short "$baseline"))"
    [[ $build == current ]] && label="current ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+changes'))"
    for scenario in "$floor" idle "during a normal create" "during a low-priority create"; do
      awk -F'\t' -v b="$build" -v s="$scenario" -v label="$label" '
        function median(a, n,   i, j, t) {
          for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
          return a[int((n + 1) / 2)] }
        $1 == b && $2 == s { n++; req += $3; err += $4; p50[n] = $5; p95[n] = $6; p99[n] = $7; sorted[n] = $7
          if ($8 > max) max = $8; inside = inside (inside == "" ? "" : ", ") $11; cs[n] = $12 }
        END { lo = hi = p99[1]; for (i = 1; i <= n; i++) { if (p99[i] < lo) lo = p99[i]; if (p99[i] > hi) hi = p99[i] }
          printf "| %s | %s | %d | %d | %d | %d | %d (%d–%d) | %d | %s | %s |\n", label, s, req, err, median(p50, n),
            median(p95, n), median(sorted, n), lo, hi, max, inside, cs[1] == "-" ? "–" : sprintf("%.1f", median(cs, n)) }
      ' "$results"
    done
  done
  echo
} >"$section"
cat "$section"
replace_section "<!-- api-load -->" "$section" docs/performance.md
rm -f "$section"
echo "Wrote the api-load section of docs/performance.md" >&2
