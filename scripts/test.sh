#!/usr/bin/env bash
# Runs every test: installs what is missing, starts two private PostgreSQL clusters on 127.0.0.1 (.data/pg-test on
# 55433 and .data/pg-dr, the disaster-recovery "new server", on 55533, or the next free ports), runs `dotnet test`,
# stops the clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_packages postgresql postgresql-client zip unzip zlib1g chromium python3 age openssh-server openssh-client
# npm for the S3 test server: the machine's own Node when it has one (Debian's npm conflicts with other Node packages).
command -v npm >/dev/null || ensure_packages nodejs npm
start_cluster .data/pg-test 55433 fsync=off synchronous_commit=off full_page_writes=off max_connections=200
trap 'stop_cluster "$PWD/.data/pg-test"; stop_cluster "$PWD/.data/pg-dr"; stop_pidfile "$PWD/.data/s3rver/pid"; stop_pidfile "$PWD/.data/sshd/sshd.pid"' EXIT
export BACKUPMANAGER_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD"
# Every test drops the replication slot it made; one left idle by a killed run would keep WAL on this disk for ever.
PGPASSWORD=$PG_PASSWORD psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAt >/dev/null <<'SQL'
SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots
WHERE NOT active AND slot_name LIKE 'backupmanager\_%';
SQL
# A second cluster: the "new server" that disaster-recovery tests restore onto.
start_cluster .data/pg-dr 55533 fsync=off synchronous_commit=off full_page_writes=off
export BACKUPMANAGER_TEST_PG_DR="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD"
# Off-site destinations as real servers on 127.0.0.1: an S3 implementation that checks SigV4, and OpenSSH's sftp.
rm -rf .data/s3rver/data
start_s3rver .data/s3rver 54380 backups
export BACKUPMANAGER_TEST_S3="http://127.0.0.1:$S3_PORT"
stop_pidfile .data/sshd/sshd.pid
start_sshd .data/sshd 54322
export BACKUPMANAGER_TEST_SFTP="127.0.0.1:$SFTP_PORT" BACKUPMANAGER_TEST_SFTP_KEY="$PWD/.data/sshd/client_key" BACKUPMANAGER_TEST_SFTP_HOST_KEY="$SFTP_HOST_KEY_SHA256"
# axe-core for the accessibility tests, loaded into each page by the browser tests.
ensure_axe_core .data/axe-core
export BACKUPMANAGER_TEST_AXE="$AXE_CORE_JS"

dotnet tool restore >/dev/null
dotnet_restore BackupManager.sln
dotnet build BackupManager.sln -nologo -v q -clp:ErrorsOnly
mkdir -p artifacts
set +e
dotnet test BackupManager.sln --no-build -nologo --logger "console;verbosity=normal" --logger "trx;LogFileName=tests.trx" \
  --results-directory artifacts/test-results "$@" 2>&1 | tee artifacts/test-output.log
status=${PIPESTATUS[0]}
set -e
# One plain summary line for CI, summed over the test projects.
passed=$({ grep -oE 'Passed: +[0-9]+' artifacts/test-output.log || true; } | awk '{s+=$2} END {print s+0}')
failed=$({ grep -oE 'Failed: +[0-9]+' artifacts/test-output.log || true; } | awk '{s+=$2} END {print s+0}')
skipped=$({ grep -oE 'Skipped: +[0-9]+' artifacts/test-output.log || true; } | awk '{s+=$2} END {print s+0}')
# CI shows the end of the output: repeat each failed test's name, message and first stack lines there.
if ((failed > 0)); then
  echo "---- failed tests ----"
  awk '/^  Failed [^ ]/ {n = 40} n > 0 {print; n--}' artifacts/test-output.log | grep -v -E '^(info|warn|dbug): |^      ' | head -200
  echo "----------------------"
fi
echo "$passed passed, $failed failed, $skipped skipped"
if ((status == 0 && passed == 0)); then echo "no test ran" >&2; exit 1; fi
exit "$status"
