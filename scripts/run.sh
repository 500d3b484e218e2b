#!/usr/bin/env bash
# Runs BackupManager on http://127.0.0.1:5208 (ASPNETCORE_URLS moves it; Production, from a Release publish) with a
# private PostgreSQL cluster under .data/, or the server named by ConnectionStrings__Default. --demo seeds a small demo
# clinic into the database when it is still empty; --dev runs the Development environment instead (detailed errors:
# never on a real server).
#
#   ./scripts/run.sh [--demo] [--dev]     the web app
#   ./scripts/run.sh app:<command> [...]  one console command against the same cluster, folders and settings, from the
#                                         current publish (made first when there is none or the sources are newer)
#   ./scripts/run.sh --stop               stops the private cluster (the app stops with Ctrl-C)
#
# The local clinic database "clinic" belongs to the role "backupmanager", which has LOGIN and CREATEDB but is not a
# superuser: a restore then never runs an archive's SQL with superuser rights (COPY ... TO PROGRAM in a crafted
# archive would otherwise run shell commands as the database server's user). Its password is generated once and kept
# in .data/pg/backupmanager-password (0600). With --demo, point-in-time recovery is on: the role "backupmanager_wal"
# (LOGIN REPLICATION, password in .data/pg/backupmanager-wal-password) streams WAL and takes base backups, and a first
# base backup is taken when there is none, so the restorable window starts at once; later runs keep it on.
set -euo pipefail
# Backups, clinic files and passwords are private whatever the caller's umask; the cluster's folder is the postgres
# user's (see cluster_home in lib.sh).
umask 077
cd "$(dirname "$0")/.."
source scripts/lib.sh

demo=0 dev=0 command=()
if [[ ${1:-} == app:* ]]; then
  command=("$@")
else
  for argument in "$@"; do
    case $argument in
      --demo) demo=1 ;;
      --dev) dev=1 ;;
      --stop) stop_cluster .data/pg; echo "Stopped the private PostgreSQL cluster (.data/pg)." >&2; exit 0 ;;
      *) echo "usage: scripts/run.sh [--demo] [--dev] | app:<command> [arguments] | --stop" >&2; exit 2 ;;
    esac
  done
fi

ensure_packages postgresql postgresql-client zip unzip zlib1g
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
# Once --demo turned point-in-time recovery on for the local cluster, it stays on (the app and console commands alike).
if ((local_cluster)) && [[ -z ${Backup__Pitr__Enabled:-} ]] \
  && { ((demo)) || [[ -s .data/pg/backupmanager-wal-password ]]; }; then
  enable_demo_pitr "$PG_PORT"
fi
if [[ -z "${Backup__Directory:-}" ]]; then
  export Backup__Directory=$PWD/.data/backups
  mkdir -p "$Backup__Directory"; chmod 700 "$Backup__Directory"
fi
if [[ -z "${Backup__Paths__0:-}" ]]; then
  export Backup__Paths__0=$PWD/.data/clinic-files
  mkdir -p "$Backup__Paths__0"; chmod 700 "$Backup__Paths__0"
fi
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:5208}

# publish_is_current: the Release publish exists and no source file is newer than it.
publish_is_current() {
  [[ -f .data/app/BackupManager.Web.dll ]] || return 1
  [[ -z $(find BackupManager.Core BackupManager.Web Directory.Build.props Directory.Packages.props \
    -newer .data/app/BackupManager.Web.dll -type f ! -path '*/obj/*' ! -path '*/bin/*' -print -quit) ]]
}

publish() {
  dotnet_restore BackupManager.sln
  # Production serves MudBlazor's and Blazor's static files only from publish output.
  dotnet publish BackupManager.Web -c Release -o .data/app -nologo -v q -clp:ErrorsOnly >/dev/null
  touch .data/app/BackupManager.Web.dll
}

if ((${#command[@]})); then
  publish_is_current || publish
  export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production} DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Production}
  exec dotnet .data/app/BackupManager.Web.dll "${command[@]}"
fi

if ((dev)); then
  dotnet_restore BackupManager.sln
  dotnet build BackupManager.Web -nologo -v q -clp:ErrorsOnly
  export ASPNETCORE_ENVIRONMENT=Development
  app=(dotnet run --no-build --no-launch-profile --project BackupManager.Web --)
else
  publish
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_ENVIRONMENT=Production
  app=(dotnet .data/app/BackupManager.Web.dll)
fi
if ((demo && local_cluster)); then
  "${app[@]}" app:seed-demo
  if [[ ${Backup__Pitr__Enabled:-} == true ]]; then first_base_backup "$PG_PORT" "${app[@]}"; fi
fi
cat >&2 <<BANNER
BackupManager: $ASPNETCORE_URLS  ($ASPNETCORE_ENVIRONMENT; backups in $Backup__Directory)
  Sign in with the address and password printed when the administrator was created (printed once; another account:
  ./scripts/run.sh app:create-admin <email>). Console commands beside the app: ./scripts/run.sh app:help
BANNER
exec "${app[@]}"
