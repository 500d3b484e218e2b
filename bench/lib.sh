# Shared by the bench scripts.

# replace_section MARKER SECTION_FILE DOC: puts SECTION_FILE (which starts with the line MARKER) in DOC in place of the
# part from MARKER up to the next marker line (<!-- … -->) or the end, or appends it when DOC has no MARKER yet.
replace_section() {
  local marker=$1 section=$2 doc=$3
  awk -v marker="$marker" -v section="$section" '
    BEGIN { while ((getline line < section) > 0) body = body line "\n" }
    $0 == marker { skip = 1; print body; printed = 1; next }
    skip && /^<!-- / { skip = 0 }
    !skip { print }
    END { if (!printed) printf "%s", body }' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
}

# clinic_database DB ROLE PASSWORD_FILE SCALE: makes sure DB exists, is owned by ROLE — a login without superuser
# rights but with CREATEDB, as deployed (restores refuse to run archive SQL as a superuser) — and holds
# bench/dataset.sql at SCALE, loaded as ROLE (regenerated when the owner is wrong or a load never finished). ROLE's
# password is generated once into PASSWORD_FILE (0600) and exported as OWNER_PASSWORD; it reaches psql on standard
# input or in the environment, never in its arguments.
clinic_database() {
  local db=$1 role=$2 file=$3 scale=$4
  [[ -s $file ]] || (umask 077 && head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
  OWNER_PASSWORD=$(cat "$file")
  export OWNER_PASSWORD
  psql -d postgres -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB', '$role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role')
\gexec
ALTER ROLE "$role" PASSWORD '$OWNER_PASSWORD';
SQL
  local owner
  owner=$(psql -d postgres -tAc "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db'")
  if [[ $owner == "$role" ]] \
    && [[ $(psql -d "$db" -tAc "SELECT count(*) FROM pg_tables WHERE tablename = 'bench_complete'") == 1 ]]; then
    return 0
  fi
  echo "Generating the database (scale $scale) ..." >&2
  psql -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\" OWNER \"$role\""
  PGUSER=$role PGPASSWORD=$OWNER_PASSWORD psql -d "$db" -q -v scale="$scale" -f bench/dataset.sql
  PGUSER=$role PGPASSWORD=$OWNER_PASSWORD psql -d "$db" -qc "CREATE TABLE bench_complete ()"
}

# scan_and_note_files DIR MB: once (DIR.complete marks it), MB of files in DIR: 80 % incompressible X-rays of 4 MiB,
# 20 % small text notes in 50 folders.
scan_and_note_files() {
  local files=$1 mb=$2 n d i
  [[ -f $files.complete ]] && return 0
  echo "Generating $mb MB of files ..." >&2
  rm -rf "$files"; mkdir -p "$files"/{xrays,documents}
  n=0; while ((n * 4 < mb * 8 / 10)); do head -c 4194304 /dev/urandom >"$files/xrays/scan-$n.dcm"; n=$((n + 1)); done
  local line="The patient reports mild sensitivity on the upper left molar; advised fluoride and review in six months."
  n=0; while ((n * 45 < mb * 1024 * 2 / 10)); do
    d=$files/documents/$((n % 50)); mkdir -p "$d"
    for i in $(seq 1 400); do echo "$n/$i: $line"; done >"$d/note-$n.txt"; n=$((n + 1))
  done
  touch "$files.complete"
}

# publish_builds ROOT WORK [BASELINE]: the tree at ROOT published (Release) into WORK/app-current and, with BASELINE,
# that commit into WORK/app-baseline (through a temporary worktree).
publish_builds() {
  local root=$1 work=$2 baseline=${3:-}
  publish_to "$root" "$work/app-current"
  [[ -n $baseline ]] || return 0
  git worktree remove --force "$work/src-baseline" 2>/dev/null || true
  git worktree add --detach "$work/src-baseline" "$baseline" >/dev/null 2>&1
  publish_to "$work/src-baseline" "$work/app-baseline"
  git worktree remove --force "$work/src-baseline"
}
publish_to() { dotnet publish "$1/BackupManager.Web" -c Release -r linux-x64 --self-contained false -o "$2" \
  -nologo -v q -clp:ErrorsOnly >/dev/null; }
