#!/bin/sh
# Restores one backup set (a tenant, or the platform) of this host from a snapshot, into the
# volumes and databases its fragment lists now; or one mailbox (or one folder of it) of the set,
# from the platform's snapshot of the mail store, into a folder "Restored-<date>" of that mailbox.
# Nothing is lost: a volume's current files are kept beside it (pre-restore-<stamp>), a database's
# current content is dumped first (pre-restore/<stamp>), a mailbox's current mail is untouched.
# docs/services/backups.md "Restoring".
# Usage: restore.sh <set> [--offer <offer>] [--snapshot <id>] [--mailbox <address> [--folder <name>]] [--dry-run]
set -eu

FRAGMENTS_DIR=${FRAGMENTS_DIR:-/srv/alacarte/backup.d}
VOLUMES_DIR=${VOLUMES_DIR:-/var/lib/docker/volumes}
STAGING_DIR=${STAGING_DIR:-/var/backups/alacarte}
: "${BACKUP_HOST:?BACKUP_HOST names this host in the snapshots}"
: "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is the backup target}"

fail() { printf 'restore: %s\n' "$*" >&2; exit 1; }
# Exit 3: this host holds nothing of the set (npm run restore asks every host, docs/services/backups.md).
nothing_here() { printf 'restore: %s\n' "$*" >&2; exit 3; }
usage() { fail "usage: restore.sh <set> [--offer <offer>] [--snapshot <id>] [--mailbox <address> [--folder <name>]] [--dry-run]"; }

[ $# -ge 1 ] || usage
set_name=$1
shift
offer="" snapshot="" mailbox="" folder="" dry_run=false
while [ $# -gt 0 ]; do
  case $1 in
    --offer) [ $# -ge 2 ] || usage; offer=$2; shift 2 ;;
    --snapshot) [ $# -ge 2 ] || usage; snapshot=$2; shift 2 ;;
    --mailbox) [ $# -ge 2 ] || usage; mailbox=$2; shift 2 ;;
    --folder) [ $# -ge 2 ] || usage; folder=$2; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    *) usage ;;
  esac
done
case $set_name in "" | *[!a-z0-9-]*) fail "invalid set name" ;; esac
case $offer in *[!a-z0-9-]*) fail "invalid offer name" ;; esac
case $snapshot in *[!a-f0-9]*) fail "a snapshot id is hexadecimal" ;; esac
[ -z "$folder" ] || [ -n "$mailbox" ] || fail "--folder needs --mailbox"
fragment="$FRAGMENTS_DIR/$set_name.backup"
[ -f "$fragment" ] || nothing_here "set $set_name has nothing on host $BACKUP_HOST"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib-dump.sh
. "$(dirname "$0")/lib-dump.sh"

# pick_snapshot <set>: the id of the snapshot asked for, or the newest, of that set on this host.
pick_snapshot() {
  list=$(restic snapshots --json --host "$BACKUP_HOST" --tag "set:$1")
  if [ -n "$snapshot" ]; then
    id=$(printf '%s' "$list" | jq -r --arg id "$snapshot" '[.[] | select(.id | startswith($id))] | if length == 1 then .[0].id else empty end')
    [ -n "$id" ] || fail "no single snapshot $snapshot of set $1 on host $BACKUP_HOST"
  else
    id=$(printf '%s' "$list" | jq -r 'sort_by(.time) | last | .id // empty')
    [ -n "$id" ] || fail "set $1 has no snapshot on host $BACKUP_HOST"
  fi
  printf '%s' "$id"
}

snapshot_time() { restic snapshots --json "$1" | jq -r '.[0].time'; }

# --- one mailbox, from the platform's snapshot of the mail store -----------------------------------
if [ -n "$mailbox" ]; then
  grep -qxF "mailbox mail $mailbox" "$fragment" || fail "$mailbox is not a mailbox of set $set_name"
  store=$(awk '$1 == "mailstore" { print $3, $4, $5; exit }' "$FRAGMENTS_DIR/platform.backup" 2>/dev/null || true)
  [ -n "$store" ] || nothing_here "host $BACKUP_HOST holds no mail store"
  # shellcheck disable=SC2086 # three words: volume, container, mount point (no spaces in any)
  set -- $store
  volume=$1 container=$2 mount=$3
  domain=${mailbox#*@}
  local_part=${mailbox%@*}
  maildir="$VOLUMES_DIR/$volume/_data/$domain/$local_part/Maildir"
  id=$(pick_snapshot platform)
  when=$(snapshot_time "$id")
  if [ -n "$folder" ]; then
    case $folder in *..* | .* | */ | "" ) fail "invalid folder name" ;; esac
    # Dovecot's Maildir++ layout: INBOX is the Maildir itself, "A/B" is the folder .A.B (https://doc.dovecot.org/2.3/admin_manual/mailbox_formats/maildir/).
    if [ "$folder" = INBOX ]; then includes="$maildir/cur $maildir/new"; else includes="$maildir/.$(printf '%s' "$folder" | tr / .)"; fi
    query="mailbox $folder"
  else
    includes=$maildir
    query=all
  fi
  target="Restored-$(printf '%s' "$when" | cut -c1-10)"
  if $dry_run; then
    echo "would restore mailbox $mailbox${folder:+ folder $folder} from snapshot ${id%"${id#????????}"} of $when into its folder $target"
    exit 0
  fi
  work="$VOLUMES_DIR/$volume/_data/.restore-$stamp"
  # Dovecot reads it as the mail user: the folders above the restored Maildir must let it through
  # (restic gives the restored folders their saved modes, and makes the target 0700).
  mkdir -m 0711 "$work"
  set --
  for path in $includes; do set -- "$@" --include "$path"; done
  restic restore --quiet "$id" --target "$work" "$@"
  [ -d "$work$maildir" ] || { rm -rf "$work"; fail "mailbox $mailbox${folder:+ folder $folder} is not in snapshot $id"; }
  # Imported by Dovecot itself, into a folder of its own: nothing current is overwritten and the
  # indexes stay right (https://doc.dovecot.org/2.3/man/doveadm-import.1/).
  inner="${mount%/}/.restore-$stamp$maildir"
  # shellcheck disable=SC2086 # the query is one or two words
  docker exec "$container" doveadm import -u "$mailbox" "maildir:$inner" "$target" $query
  rm -rf "$work"
  echo "restored mailbox $mailbox${folder:+ folder $folder} from snapshot ${id%"${id#????????}"} of $when into its folder $target"
  exit 0
fi

# --- volumes and databases of the set --------------------------------------------------------------
entries=$(awk -v offer="$offer" '($1 == "volume" || $1 == "database") && (offer == "" || $2 == offer)' "$fragment")
[ -n "$entries" ] || nothing_here "set $set_name has no volume or database${offer:+ of offer $offer} on host $BACKUP_HOST"
id=$(pick_snapshot "$set_name")
when=$(snapshot_time "$id")
short=${id%"${id#????????}"}
if $dry_run; then
  printf '%s\n' "$entries" | while read -r kind entry_offer a _b c; do
    case $kind in
      volume) echo "would restore volume $a ($entry_offer) from snapshot $short of $when" ;;
      database) echo "would restore database $c ($entry_offer, $a) from snapshot $short of $when" ;;
    esac
  done
  exit 0
fi

work="$STAGING_DIR/.restore-$stamp"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

restore_volume() {
  volume=$1
  data="$VOLUMES_DIR/$volume/_data"
  # Restored beside the volume's files (same filesystem, so the swap is two renames).
  into="$VOLUMES_DIR/$volume/restore-$stamp"
  restic restore --quiet "$id" --target "$into" --include "$data"
  [ -d "$into$data" ] || { rm -rf "$into"; fail "volume $volume is not in snapshot $short"; }
  users=$(docker ps --filter "volume=$volume" --format '{{.Names}}')
  for c in $users; do docker stop "$c" >/dev/null; done
  mv "$data" "$VOLUMES_DIR/$volume/pre-restore-$stamp"
  mv "$into$data" "$data"
  rm -rf "$into"
  for c in $users; do docker start "$c" >/dev/null; done
  echo "restored volume $volume ($2) from snapshot $short of $when; its files before are in $VOLUMES_DIR/$volume/pre-restore-$stamp"
}

restore_database() {
  engine=$1 container=$2 database=$3
  dir="$STAGING_DIR/$set_name/$engine/$container"
  restic restore --quiet "$id" --target "$work" --include "$dir/$database.dump" --include "$dir/globals.sql"
  file="$work$dir/$database.dump"
  [ -f "$file" ] || fail "database $database is not in snapshot $short"
  keep="$STAGING_DIR/pre-restore/$stamp/$set_name/$engine/$container"
  mkdir -p "$keep"
  case $engine in
    postgres)
      # shellcheck disable=SC2016 # expanded by the container's shell, not this one
      psql_admin='PGPASSWORD="$POSTGRES_PASSWORD" exec psql -v ON_ERROR_STOP=1 -qAt -h 127.0.0.1 -U "$POSTGRES_USER" -d postgres "$@"'
      exists=$(docker exec "$container" sh -c "$psql_admin" sh -c "SELECT 1 FROM pg_database WHERE datname = '$database'")
      if [ "$exists" = 1 ]; then
        dump postgres "$container" "$database" "$keep/$database.dump"
      fi
      # Its owner, by the naming rule the same name (components/blocks/database.ts), comes back with the roles of the dump.
      owner=$(docker exec "$container" sh -c "$psql_admin" sh -c "SELECT 1 FROM pg_roles WHERE rolname = '$database'")
      if [ "$owner" != 1 ] && [ -f "$work$dir/globals.sql" ]; then
        docker exec -i "$container" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec psql -q -h 127.0.0.1 -U "$POSTGRES_USER" -d postgres' <"$work$dir/globals.sql" >/dev/null 2>&1 || true
      fi
      docker exec "$container" sh -c "$psql_admin" sh -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
      # --create: the database comes back with its owner and settings (https://www.postgresql.org/docs/15/app-pgrestore.html).
      docker exec -i "$container" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_restore --exit-on-error --create -h 127.0.0.1 -U "$POSTGRES_USER" -d postgres' <"$file"
      ;;
    mariadb)
      exists=$(docker exec "$container" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb -uroot -N -e "SHOW DATABASES LIKE '"'"'$1'"'"'"' sh "$database")
      if [ -n "$exists" ]; then
        dump mariadb "$container" "$database" "$keep/$database.dump"
      fi
      docker exec "$container" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb -uroot -e "DROP DATABASE IF EXISTS \`$1\`"' sh "$database"
      # The dump names its database (--databases): CREATE DATABASE and USE come with it.
      docker exec -i "$container" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb -uroot' <"$file"
      ;;
    *) fail "unknown database engine $engine" ;;
  esac
  echo "restored database $database ($4, $engine) from snapshot $short of $when; its content before is in $keep/$database.dump"
}

printf '%s\n' "$entries" >"$work/entries"
while read -r kind entry_offer a b c; do
  case $kind in
    volume) restore_volume "$a" "$entry_offer" </dev/null ;;
    database) restore_database "$a" "$b" "$c" "$entry_offer" </dev/null ;;
  esac
done <"$work/entries"
