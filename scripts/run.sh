#!/usr/bin/env bash
# Runs BackupManager on http://127.0.0.1:5208 (Production, from a Release publish) with a private PostgreSQL cluster
# under .data/, or the server named by ConnectionStrings__Default. --demo seeds a small demo clinic into the database
# when it is still empty; --dev runs the Development environment instead (detailed errors: never on a real server).
#
# The local clinic database "clinic" belongs to the role "backupmanager", which has LOGIN and CREATEDB but is not a
# superuser: a restore then never runs an archive's SQL with superuser rights (COPY ... TO PROGRAM in a crafted
# archive would otherwise run shell commands as the database server's user). Its password is generated once and kept
# in .data/pg/backupmanager-password (0600).
set -euo pipefail
umask 077
cd "$(dirname "$0")/.."
source scripts/lib.sh

demo=0 dev=0
for argument in "$@"; do
  case $argument in
    --demo) demo=1 ;;
    --dev) dev=1 ;;
    *) echo "usage: scripts/run.sh [--demo] [--dev]" >&2; exit 2 ;;
  esac
done

ensure_packages postgresql postgresql-client zip unzip
if [[ -z "${ConnectionStrings__Default:-}" ]]; then
  start_cluster .data/pg 55432
  owner_password_file=.data/pg/backupmanager-password
  [[ -s $owner_password_file ]] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$owner_password_file"
  owner_password=$(cat "$owner_password_file")
  superuser=(psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if ! PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'backupmanager'" | grep -q 1; then
    # Through stdin, not -c: a password never goes on a command line, where other users' ps would show it.
    PGPASSWORD=$PG_PASSWORD "${superuser[@]}" <<<"CREATE ROLE backupmanager LOGIN CREATEDB PASSWORD '$owner_password'"
  fi
  if ! PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'clinic'" | grep -q 1; then
    PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -c "CREATE DATABASE clinic OWNER backupmanager"
  fi
  export ConnectionStrings__Default="Host=127.0.0.1;Port=$PG_PORT;Database=clinic;Username=backupmanager;Password=$owner_password"
  local_cluster=1
else
  local_cluster=0
  demo=0 # never seed into a configured server
fi
export Backup__Directory=${Backup__Directory:-$PWD/.data/backups}
export Backup__Paths__0=${Backup__Paths__0:-$PWD/.data/clinic-files}
mkdir -p "$Backup__Directory" "$Backup__Paths__0"
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:5208}

dotnet_restore BackupManager.sln
if ((dev)); then
  dotnet build BackupManager.Web -nologo -v q -clp:ErrorsOnly
  export ASPNETCORE_ENVIRONMENT=Development
  app=(dotnet run --no-build --no-launch-profile --project BackupManager.Web --)
else
  # Production serves MudBlazor's and Blazor's static files only from publish output.
  dotnet publish BackupManager.Web -c Release -o .data/app -nologo -v q -clp:ErrorsOnly >/dev/null
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  app=(dotnet .data/app/BackupManager.Web.dll)
fi
if ((demo && local_cluster)); then
  "${app[@]}" app:seed-demo
fi
echo "BackupManager: $ASPNETCORE_URLS  ($ASPNETCORE_ENVIRONMENT; backups in $Backup__Directory)" >&2
exec "${app[@]}"
