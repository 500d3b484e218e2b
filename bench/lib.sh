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
