# Shared by run.sh and test.sh: install what is missing and run a private PostgreSQL cluster on 127.0.0.1.
# Safe to source and call twice: every step checks before it acts.

ensure_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]})); then
    echo "Installing ${missing[*]} ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# as_postgres COMMAND...: runs COMMAND as the postgres user from / (the caller's folder may be closed to it).
as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

# cluster_home DIR: prints the folder the postgres user keeps DIR's cluster in. That is DIR itself when postgres can
# reach it; a home folder (0700), a clone made under umask 077 or run.sh's own private .data/ keep postgres out, so the
# cluster then lives under /var/lib/postgresql/backupmanager/ (postgres's home) and DIR becomes a symlink to it.
cluster_home() {
  local dir=$1
  mkdir -p "$(dirname "$dir")"
  # Absolute: as_postgres runs from /, where a relative path would name another folder.
  dir=$(cd "$(dirname "$dir")" && pwd -P)/$(basename "$dir")
  if [[ -L "$dir" ]]; then readlink -f "$dir"; return; fi
  mkdir -p "$dir"
  chown postgres:postgres "$dir"; chmod 700 "$dir"
  if as_postgres test -x "$dir" -a -w "$dir"; then (cd "$dir" && pwd -P); return; fi
  if [[ -f "$dir/data/PG_VERSION" ]]; then
    echo "The PostgreSQL cluster in $dir can no longer be reached by the postgres user (a parent folder lost its" \
      "x bit for others). Give it back (chmod o+x on each parent) or move the folder somewhere postgres can enter." >&2
    return 1
  fi
  local home; home=/var/lib/postgresql/backupmanager/$(basename "$PWD")-$(basename "$dir")
  home+=-$(printf %s "$(cd "$dir" && pwd -P)" | sha256sum | cut -c1-12)
  mkdir -p "$home"; chown postgres:postgres "$(dirname "$home")" "$home"; chmod 700 "$home"
  rm -rf "$dir" # it held no cluster: at most an unused password file from a start that initdb refused
  ln -s "$home" "$dir"
  echo "$home"
}

# start_cluster DIR PORT [extra postgres -c settings...]: initdb once (as the postgres user: initdb refuses root),
# then start it if it is not running, on PORT or the next free port. The superuser password is generated here and kept
# in DIR/password; the port actually used is exported as PG_PORT (and kept in DIR/port).
start_cluster() {
  local dir=$1 port=$2; shift 2
  local bin; bin=$(pg_bin)
  dir=$(cluster_home "$dir")
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    rm -rf "$dir/data"
    # No early-closing pipe here: under `set -o pipefail` a SIGPIPE would abort the script.
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/password"
    chown postgres:postgres "$dir/password"; chmod 600 "$dir/password"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/password" \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
  fi
  mkdir -p "$dir/socket"; chown postgres:postgres "$dir/socket"
  if as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    port=$(cat "$dir/port" 2>/dev/null || echo "$port")
  else
    # Another server (say, a second checkout's cluster) may hold the port: take the next free one. One starting at the
    # same moment may take it between the probe and the bind: then the next port is tried (a few times).
    local attempt
    for attempt in 1 2 3 4 5; do
      while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
      echo "$port" >"$dir/port"
      local options="-c listen_addresses=127.0.0.1 -p $port -k $dir/socket"
      for setting in "$@"; do options+=" -c $setting"; done
      local seen; seen=$({ wc -l <"$dir/server.log"; } 2>/dev/null || echo 0)
      as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null && break
      tail -n +$((seen + 1)) "$dir/server.log" | grep -q "Address already in use" && ((attempt < 5)) || {
        echo "PostgreSQL did not start; the end of $dir/server.log:" >&2; tail -5 "$dir/server.log" >&2; return 1; }
      port=$((port + 1))
    done
  fi
  PG_PASSWORD=$(cat "$dir/password")
  PG_PORT=$port
  export PG_PASSWORD PG_PORT
}

stop_cluster() {
  local dir=$1
  [[ -f "$dir/data/PG_VERSION" ]] || return 0
  dir=$(readlink -f "$dir")
  as_postgres "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# create_database PORT NAME: creates NAME on the local cluster if it does not exist yet.
create_database() {
  local port=$1 name=$2
  if ! PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$name'" | grep -q 1; then
    PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# A cold NuGet cache sometimes fails once with a transient http-cache error; one retry is cheap insurance.
dotnet_restore() {
  dotnet restore "$@" >/dev/null 2>&1 || dotnet restore "$@"
}

# start_s3rver DIR PORT BUCKET: npm's s3rver (an independent S3 implementation that checks SigV4 signatures) on
# 127.0.0.1, installed once into DIR/node_modules; the port actually used is exported as S3_PORT.
start_s3rver() {
  local dir=$1 port=$2 bucket=$3
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if [[ ! -x "$dir/node_modules/.bin/s3rver" ]]; then
    (cd "$dir" && npm install --no-audit --no-fund --silent s3rver@3.7.1 >/dev/null 2>&1 || npm install --no-audit --no-fund s3rver@3.7.1)
  fi
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  # s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider
  NODE_OPTIONS=--openssl-legacy-provider "$dir/node_modules/.bin/s3rver" -d "$dir/data" -a 127.0.0.1 -p "$port" --configure-bucket "$bucket" --silent >"$dir/s3rver.log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  S3_PORT=$port
  export S3_PORT
}

# start_sshd DIR PORT: OpenSSH's sshd with the sftp subsystem on 127.0.0.1, a throwaway host key and a client key
# (DIR/client_key) allowed in; the port actually used is exported as SFTP_PORT, the host key's fingerprint as
# SFTP_HOST_KEY_SHA256.
start_sshd() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p /run/sshd
  [[ -f "$dir/host_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
  [[ -f "$dir/client_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  cat >"$dir/sshd_config" <<CONFIG
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CONFIG
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  SFTP_PORT=$port
  SFTP_HOST_KEY_SHA256=$(ssh-keygen -lf "$dir/host_key.pub" -E sha256 | awk '{print $2}')
  export SFTP_PORT SFTP_HOST_KEY_SHA256
}

# ensure_axe_core DIR: npm's axe-core (the accessibility engine the browser tests inject into each page), installed
# once into DIR/node_modules; its script's path is exported as AXE_CORE_JS.
ensure_axe_core() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ ! -f "$dir/node_modules/axe-core/axe.min.js" ]]; then
    (cd "$dir" && npm install --no-audit --no-fund --silent axe-core@4.14.1 >/dev/null 2>&1 \
      || npm install --no-audit --no-fund axe-core@4.14.1)
  fi
  AXE_CORE_JS=$dir/node_modules/axe-core/axe.min.js
  export AXE_CORE_JS
}

stop_pidfile() {
  [[ -f "$1" ]] && kill "$(cat "$1")" 2>/dev/null || true
  rm -f "$1"
}

# enable_demo_pitr PORT: point-in-time recovery for run.sh --demo's local cluster. A role with REPLICATION only (and
# pg_monitor, so the lag is visible), its password generated once into .data/pg/backupmanager-wal-password (0600) and
# given to psql on stdin; pg_hba.conf must let it replicate from 127.0.0.1 with scram; max_slot_wal_keep_size caps
# what a stopped receiver's slot keeps. Exports Backup__Pitr__Enabled and Backup__Pitr__Connection.
enable_demo_pitr() {
  local port=$1 file=.data/pg/backupmanager-wal-password
  [[ -s $file ]] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file"
  local password; password=$(cat "$file")
  local superuser=(psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if ! PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'backupmanager_wal'" \
    | grep -q 1; then
    PGPASSWORD=$PG_PASSWORD "${superuser[@]}" <<<"CREATE ROLE backupmanager_wal LOGIN REPLICATION PASSWORD '$password';
      GRANT pg_monitor TO backupmanager_wal"
  fi
  # initdb's pg_hba.conf already has this line; a cluster whose file lost it gets one for this role.
  if ! PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -tAc "SELECT 1 FROM pg_hba_file_rules WHERE type = 'host'
      AND 'replication' = ANY(database) AND address = '127.0.0.1' AND auth_method = 'scram-sha-256'" | grep -q 1; then
    echo "host replication backupmanager_wal 127.0.0.1/32 scram-sha-256" >>"$(readlink -f .data/pg)/data/pg_hba.conf"
    PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -c "SELECT pg_reload_conf()" >/dev/null
  fi
  PGPASSWORD=$PG_PASSWORD "${superuser[@]}" -c "ALTER SYSTEM SET max_slot_wal_keep_size = '4GB'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  export Backup__Pitr__Enabled=true
  Backup__Pitr__Connection="Host=127.0.0.1;Port=$port;Database=clinic;Username=backupmanager_wal;Password=$password"
  export Backup__Pitr__Connection
}

# first_base_backup PORT APP...: when no base backup exists yet, creates this installation's slot (reserving WAL from
# now, so the receiver the app starts has no gap after the base backup) and takes the first base backup.
first_base_backup() {
  local port=$1; shift
  compgen -G "$Backup__Directory/pitr/base/*/backupmanager-base.json" >/dev/null && return 0
  local slot
  slot=$("$@" app:pitr-status --json | grep -o '"slot_name": *"[a-z0-9_]*"' | grep -o 'backupmanager_[a-z0-9]*')
  PGPASSWORD=$PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc \
    "SELECT pg_create_physical_replication_slot('$slot', true) WHERE NOT EXISTS
      (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$slot')" >/dev/null
  "$@" app:base-backup >/dev/null
}
