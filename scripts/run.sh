#!/usr/bin/env bash
# Runs BackupManager on http://127.0.0.1:5208 with a private PostgreSQL cluster under .data/ (or the server named by
# ConnectionStrings__Default). --demo seeds a small demo clinic into the database when it is still empty.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

demo=0
for argument in "$@"; do
  case $argument in
    --demo) demo=1 ;;
    *) echo "usage: scripts/run.sh [--demo]" >&2; exit 2 ;;
  esac
done

ensure_packages postgresql postgresql-client zip unzip
if [[ -z "${ConnectionStrings__Default:-}" ]]; then
  start_cluster .data/pg 55432
  create_database "$PG_PORT" backupmanager
  export ConnectionStrings__Default="Host=127.0.0.1;Port=$PG_PORT;Database=backupmanager;Username=postgres;Password=$PG_PASSWORD"
  local_cluster=1
else
  local_cluster=0
  demo=0 # never seed into a configured server
fi
export Backup__Directory=${Backup__Directory:-$PWD/.data/backups}
export Backup__Paths__0=${Backup__Paths__0:-$PWD/.data/clinic-files}
mkdir -p "$Backup__Directory" "$Backup__Paths__0"

dotnet_restore BackupManager.sln
dotnet build BackupManager.Web -nologo -v q -clp:ErrorsOnly
app=(dotnet run --no-build --no-launch-profile --project BackupManager.Web --)
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:5208}
if ((demo && local_cluster)); then
  "${app[@]}" app:seed-demo
fi
echo "BackupManager: $ASPNETCORE_URLS  (backups in $Backup__Directory)" >&2
exec "${app[@]}"
