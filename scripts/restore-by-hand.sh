#!/usr/bin/env bash
# The runbook's "Restore onto a new server by hand, without BackupManager" (docs/backup-procedures.md), step for step,
# with stock tools only: unzip, psql, dropdb, pg_restore. The disaster-recovery test runs it against a second cluster.
# Usage: restore-by-hand.sh BACKUP.zip FOLDER_PARENT   (PGHOST, PGPORT, PGUSER=a superuser, PGPASSWORD in the environment)
set -euo pipefail
archive=$1 files_parent=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Check the whole archive (every CRC) before trusting any of it.
unzip -tq "$archive"

# 2. Take out the database part: the dump and the roles script.
unzip -q "$archive" 'db/*' -d "$work"
dump=$(ls "$work"/db/*.dump)
database=$(pg_restore --list "$dump" | sed -n 's/^;[[:space:]]*dbname: //p')

# 3. Create the roles the database needs (existing ones are left alone; none gets a password).
psql -X -q -v ON_ERROR_STOP=1 -d postgres -f "$work/db/roles.sql"

# 4. Restore the database with its owner, settings, grants and comment (--create). An empty database of the same
#    name (a placeholder made when the server was set up) must go first.
dropdb --if-exists "$database"
pg_restore --create --exit-on-error -d postgres "$dump"

# 5. The files, with their modes, times and (-X) owners; each folder replaces the one of the same name.
unzip -X -q "$archive" 'files/*' -d "$work/restored"
folders=0
for folder in "$work"/restored/files/*/; do
  name=$(basename "$folder")
  rm -rf "${files_parent:?}/$name"
  mv "$folder" "$files_parent/$name"
  folders=$((folders + 1))
done
echo "restored $database and $folders folder(s) into $files_parent"
