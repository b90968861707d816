#!/bin/sh
# Deletes the decommissioned data of this host whose retention is over (docs/decommission.md): each
# record $RETAINED_DIR/<name>.retained written by decommission.sh lists volumes, databases,
# mailboxes and buckets and the date after which they go. What a current backup fragment lists
# again (the offer was added back: names derive from the slug and the offer only, so the stack
# re-attached it) is never deleted. A whole tenant's snapshots on this host go too (restic forget by
# host and tag set:<set>; the next prune frees their data). Each record done is moved to
# $RETAINED_DIR/.done/ and the job says what it deleted, in its log and in its metrics file, which
# the monitoring reads (node exporter's textfile collector). Runs daily; a second run changes nothing.
set -eu

FRAGMENTS_DIR=${FRAGMENTS_DIR:-/srv/alacarte/backup.d}
VOLUMES_DIR=${VOLUMES_DIR:-/var/lib/docker/volumes}
RETAINED_DIR=${RETAINED_DIR:-/srv/alacarte/retained.d}
METRICS_DIR=${METRICS_DIR:-/srv/alacarte/metrics}
PURGE_ATTEMPTS=${PURGE_ATTEMPTS:-6}
PURGE_RETRY_SECONDS=${PURGE_RETRY_SECONDS:-600}
: "${BACKUP_HOST:?BACKUP_HOST names this host in the snapshots}"
: "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is the backup target}"

log() { printf '%s purge: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
today=${PURGE_TODAY:-$(date -u +%Y-%m-%d)}
case $today in [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]) ;; *) log "PURGE_TODAY must be a date written YYYY-MM-DD"; exit 2 ;; esac

# listed <kind> <name>: some current fragment of this host lists it (field 3 names a volume, a
# mailbox or a bucket, field 5 a database: components/platform/backup-fragments.ts).
listed() {
  for f in "$FRAGMENTS_DIR"/*.backup; do
    [ -f "$f" ] || continue
    if awk -v kind="$1" -v name="$2" '$1 == kind && ((kind == "database" && $5 == name) || (kind != "database" && $3 == name)) { found = 1 } END { exit !found }' "$f"; then
      return 0
    fi
  done
  return 1
}

# The container of a database server, when it still runs; a whole tenant's server is gone with its
# stack, and its volume, in the same record, takes its databases with it.
running() { [ "$(docker inspect --format '{{.State.Running}}' "$1" 2>/dev/null || true)" = true ]; }

drop_database() {
  engine=$1 container=$2 database=$3
  case $engine in
    postgres)
      # WITH (FORCE) ends the sessions still open (https://www.postgresql.org/docs/15/sql-dropdatabase.html);
      # its owner has its name (components/blocks/database.ts).
      docker exec "$container" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec psql -v ON_ERROR_STOP=1 -qAt -h 127.0.0.1 -U "$POSTGRES_USER" -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "DROP ROLE IF EXISTS \"$1\""' sh "$database" ;;
    mariadb) docker exec "$container" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb -uroot -e "DROP DATABASE IF EXISTS \`$1\`"' sh "$database" ;;
    *) return 1 ;;
  esac
}

# garage <curl args…>: one call of Garage's admin API v2 (docs/services/garage.md "Admin API v2"),
# the bearer token in curl's config on stdin (-K -), never in its arguments; the answer in $work/body.
garage() {
  printf 'header = "Authorization: Bearer %s"\n' "$GARAGE_ADMIN_TOKEN" |
    curl --silent --show-error --connect-timeout 20 --max-time 120 -K - -o "$work/body" -w '%{http_code}' "$@"
}

# s3 <method> <path>: one signed S3 call with the bucket's own key (curl --aws-sigv4,
# https://curl.se/docs/manpage.html#--aws-sigv4), the key in curl's config on stdin.
s3() {
  # x-amz-content-sha256 of the empty payload: S3 wants it and curl 7.88 does not add it (decommission.sh).
  printf 'user = "%s:%s"\naws-sigv4 = "aws:amz:%s:s3"\nheader = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n' "$s3_key" "$s3_secret" "$GARAGE_S3_REGION" |
    curl --silent --show-error --fail --connect-timeout 20 --max-time 120 -K - -X "$1" -o "$work/s3" "$GARAGE_S3_URL$2"
}

# delete_bucket <bucket>: Garage deletes an empty bucket only (409 BucketNotEmpty, src/api/admin/bucket.rs),
# and the admin API reads no object: the objects go through S3 with the bucket's upload key
# (GetKeyInfo showSecretKey), then the bucket, then that key (named as the bucket,
# components/tenant/static-site-config.ts). A bucket already gone is no error.
delete_bucket() {
  code=$(garage "$GARAGE_ADMIN_URL/v2/GetBucketInfo?globalAlias=$1") || return 1
  [ "$code" != 404 ] || return 0
  [ "$code" = 200 ] || { log "GetBucketInfo $1: HTTP $code"; return 1; }
  id=$(jq -er '.id' "$work/body") || return 1
  key_id=$(jq -r --arg n "$1" '[.keys[] | select(.name == $n and .permissions.write and .permissions.read) | .accessKeyId] | first // empty' "$work/body")
  [ -n "$key_id" ] || { log "bucket $1: no key named $1 to empty it with"; return 1; }
  code=$(garage "$GARAGE_ADMIN_URL/v2/GetKeyInfo?id=$key_id&showSecretKey=true") || return 1
  [ "$code" = 200 ] || { log "GetKeyInfo of bucket $1: HTTP $code"; return 1; }
  s3_key=$key_id
  s3_secret=$(jq -er '.secretAccessKey' "$work/body") || return 1
  while :; do
    s3 GET "/$1?list-type=2" || return 1
    sed 's/<Key>/\n<Key>/g' "$work/s3" | sed -n 's:^<Key>\([^<]*\)</Key>.*:\1:p' |
      sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&amp;/\&/g' >"$work/keys"
    [ -s "$work/keys" ] || break
    while IFS= read -r object || [ -n "$object" ]; do
      # Their stdin is not the list of keys.
      s3 DELETE "/$1/$(jq -rn --arg k "$object" '$k | split("/") | map(@uri) | join("/")' </dev/null)" </dev/null || return 1
    done <"$work/keys"
  done
  code=$(garage -X POST "$GARAGE_ADMIN_URL/v2/DeleteBucket?id=$id") || return 1
  [ "$code" = 200 ] || { log "DeleteBucket $1: HTTP $code"; return 1; }
  code=$(garage -X POST "$GARAGE_ADMIN_URL/v2/DeleteKey?id=$key_id") || return 1
  [ "$code" = 200 ] || { log "DeleteKey of bucket $1: HTTP $code"; return 1; }
  log "$name: deleted bucket $1 and its key"
  deleted=$((deleted + 1))
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

mailstore=$(awk '$1 == "mailstore" { print $3; exit }' "$FRAGMENTS_DIR/platform.backup" 2>/dev/null || true)
deleted=0 kept=0 left=0 status=0
mkdir -p "$RETAINED_DIR/.done"
for record in "$RETAINED_DIR"/*.retained; do
  [ -f "$record" ] || continue
  name=$(basename "$record" .retained)
  case $name in *[!a-z0-9-]*) log "a record with an invalid name skipped"; status=1; continue ;; esac
  keep_until=$(awk '$1 == "until" { print $2; exit }' "$record")
  set_name=$(awk '$1 == "set" { print $2; exit }' "$record")
  offer=$(awk '$1 == "offer" { print $2; exit }' "$record")
  case $keep_until in [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]) ;; *) log "$name: no valid until line, skipped"; status=1; continue ;; esac
  case $set_name in "" | *[!a-z0-9-]*) log "$name: no valid set line, skipped"; status=1; continue ;; esac
  # Dates written YYYY-MM-DD compare as strings; the data goes the day after `until`.
  if ! expr "$today" \> "$keep_until" >/dev/null; then continue; fi
  rest=0 again=0
  awk '$1 == "volume" || $1 == "database" || $1 == "mailbox" || $1 == "bucket"' "$record" >"$record.items"
  while read -r kind _offer a b c; do
    item=$a
    [ "$kind" != database ] || item=$c
    if listed "$kind" "$item"; then
      log "$name: $kind $item is listed again in a backup fragment: kept"
      kept=$((kept + 1)) again=1
      continue
    fi
    case $kind in
      volume)
        if docker volume inspect "$a" >/dev/null 2>&1; then
          if docker volume rm "$a" >/dev/null; then log "$name: deleted volume $a"; deleted=$((deleted + 1)); else log "$name: volume $a not deleted (in use?)"; rest=1; fi
        fi
        ;;
      database)
        if running "$b"; then
          if drop_database "$a" "$b" "$c" </dev/null; then log "$name: deleted database $c"; deleted=$((deleted + 1)); else log "$name: database $c not deleted"; rest=1; fi
        elif docker inspect "$b" >/dev/null 2>&1; then
          log "$name: database $c not deleted: its server $b is stopped; tried again next run"
          rest=1
        else
          log "$name: database $c: its server $b is gone (its volume goes with the record that lists it)"
        fi
        ;;
      mailbox)
        domain=${a#*@} local_part=${a%@*}
        case $domain$local_part in "" | *..* | */*) log "$name: invalid mailbox $a"; rest=1; continue ;; esac
        if [ -z "$mailstore" ]; then log "$name: mailbox $a not deleted: host $BACKUP_HOST holds no mail store"; rest=1; continue; fi
        if [ -e "$VOLUMES_DIR/$mailstore/_data/$domain/$local_part" ]; then
          rm -rf "$VOLUMES_DIR/$mailstore/_data/$domain/$local_part"
          log "$name: deleted mailbox $a"
          deleted=$((deleted + 1))
        fi
        ;;
      bucket)
        if [ -z "${GARAGE_ADMIN_URL:-}" ]; then log "$name: bucket $a not deleted: host $BACKUP_HOST has no object store"; rest=1; continue; fi
        if delete_bucket "$a" </dev/null; then :; else log "$name: bucket $a not deleted"; rest=1; fi
        ;;
    esac
  done <"$record.items"
  rm -f "$record.items"
  if [ "$offer" = - ] && [ "$again" = 0 ] && [ ! -f "$FRAGMENTS_DIR/$set_name.backup" ]; then
    # The whole tenant: its snapshots of this host. forget takes the repository's lock: try again
    # while a backup or the prune holds it (restic 0.14 has no --retry-lock).
    # restic 0.14 `forget` without a policy removes only the snapshots named (`forget --help`).
    attempt=1
    until ids=$(restic snapshots --json --host "$BACKUP_HOST" --tag "set:$set_name" | jq -r '.[].id') &&
      { [ -z "$ids" ] || printf '%s\n' "$ids" | xargs restic forget --quiet; }; do
      if [ "$attempt" -ge "$PURGE_ATTEMPTS" ]; then log "$name: snapshots not forgotten after $attempt attempts"; rest=1; break; fi
      attempt=$((attempt + 1))
      sleep "$PURGE_RETRY_SECONDS"
    done
    [ "$rest" = 1 ] || log "$name: forgot the snapshots of set $set_name on host $BACKUP_HOST"
  elif [ "$offer" != - ]; then
    # restic 0.14 cannot take part of a snapshot out: the offer's files leave the set's snapshots as
    # they age out of the retention (backup.keep).
    log "$name: the snapshots of set $set_name keep offer $offer until they age out of the retention"
  fi
  if [ "$rest" = 0 ]; then
    mv "$record" "$RETAINED_DIR/.done/$name.$today.retained"
    log "$name: record done (retained until $keep_until)"
  else
    left=$((left + 1)) status=1
  fi
done

mkdir -p "$METRICS_DIR"
{
  printf 'alacarte_purge_last_run_ok{host="%s"} %s\n' "$BACKUP_HOST" "$([ "$status" = 0 ] && echo 1 || echo 0)"
  printf 'alacarte_purge_deleted{host="%s"} %s\n' "$BACKUP_HOST" "$deleted"
  printf 'alacarte_purge_records_left{host="%s"} %s\n' "$BACKUP_HOST" "$left"
} >"$METRICS_DIR/.alacarte_purge.prom.tmp"
mv "$METRICS_DIR/.alacarte_purge.prom.tmp" "$METRICS_DIR/alacarte_purge.prom"
log "$deleted deleted, $kept kept (listed again), $left records left for the next run"
exit "$status"
