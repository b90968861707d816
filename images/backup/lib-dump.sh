#!/bin/sh
# Sourced by backup.sh and restore.sh: the one way a database is dumped, for a backup and for the
# copy a restore keeps of what it replaces.

# dump <engine> <container> <database> <file>: a consistent dump (pg_dump's snapshot; mariadb-dump
# --single-transaction), written next to <file> and renamed only once complete.
dump() {
  mkdir -p "$(dirname "$4")"
  case $1 in
    postgres)
      # -Fc: pg_restore can recreate the database from it (https://www.postgresql.org/docs/15/app-pgdump.html).
      docker exec "$2" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_dump -h 127.0.0.1 -U "$POSTGRES_USER" -Fc "$1"' sh "$3" >"$4.part"
      # Roles and their settings, which a database's dump leaves out: a restore onto a new server needs its owner.
      docker exec "$2" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_dumpall -h 127.0.0.1 -U "$POSTGRES_USER" --globals-only' >"$(dirname "$4")/globals.sql"
      ;;
    mariadb)
      # MYSQL_PWD keeps the password out of the client's arguments (https://mariadb.com/kb/en/mariadb-environment-variables/).
      docker exec "$2" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb-dump -uroot --single-transaction --routines --triggers --events --databases "$1"' sh "$3" >"$4.part"
      ;;
    *)
      echo "unknown database engine $1" >&2
      return 1
      ;;
  esac
  mv "$4.part" "$4"
}
