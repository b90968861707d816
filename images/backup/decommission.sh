#!/bin/sh
# Exports what this host holds of one backup set (a tenant), or of one offer of it, in open formats
# into $EXPORTS_DIR/<folder> with a LISTING, then writes the retention record
# $RETAINED_DIR/<set>[-<offer>].retained that purge.sh reads (docs/decommission.md). Run by
# `npm run decommission` through `docker exec`, after a backup of the set; it deletes nothing.
# A static site's bucket is read through the S3 API with the tenant's upload key, given on stdin
# as s3_endpoint=, s3_region=, s3_key=, s3_secret= lines (never in an argument).
# Usage: decommission.sh <set> [--offer <offer>] --until <YYYY-MM-DD> --into <folder> [--dry-run]
set -eu

FRAGMENTS_DIR=${FRAGMENTS_DIR:-/srv/alacarte/backup.d}
VOLUMES_DIR=${VOLUMES_DIR:-/var/lib/docker/volumes}
EXPORTS_DIR=${EXPORTS_DIR:-/srv/alacarte/exports}
RETAINED_DIR=${RETAINED_DIR:-/srv/alacarte/retained.d}
: "${BACKUP_HOST:?BACKUP_HOST names this host}"

fail() { printf 'decommission: %s\n' "$*" >&2; exit 1; }
# Exit 3: this host holds nothing of the set (npm run decommission asks every host).
nothing_here() { printf 'decommission: %s\n' "$*" >&2; exit 3; }
usage() { fail "usage: decommission.sh <set> [--offer <offer>] --until <YYYY-MM-DD> --into <folder> [--dry-run]"; }

[ $# -ge 1 ] || usage
set_name=$1
shift
offer="" keep_until="" into="" dry_run=false
while [ $# -gt 0 ]; do
  case $1 in
    --offer) [ $# -ge 2 ] || usage; offer=$2; shift 2 ;;
    --until) [ $# -ge 2 ] || usage; keep_until=$2; shift 2 ;;
    --into) [ $# -ge 2 ] || usage; into=$2; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    *) usage ;;
  esac
done
case $set_name in "" | platform | *[!a-z0-9-]*) fail "invalid set name" ;; esac
case $offer in *[!a-z0-9-]*) fail "invalid offer name" ;; esac
case $keep_until in [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]) ;; *) fail "--until takes a date written YYYY-MM-DD" ;; esac
case $into in "" | .* | *[!A-Za-z0-9.-]*) fail "--into takes a folder name" ;; esac
fragment="$FRAGMENTS_DIR/$set_name.backup"
[ -f "$fragment" ] || nothing_here "set $set_name has nothing on host $BACKUP_HOST"
entries=$(awk -v offer="$offer" '($1 == "volume" || $1 == "database" || $1 == "mailbox" || $1 == "bucket") && (offer == "" || $2 == offer)' "$fragment")
[ -n "$entries" ] || nothing_here "set $set_name has no data${offer:+ of offer $offer} on host $BACKUP_HOST"

if $dry_run; then
  printf '%s\n' "$entries" | while read -r kind entry_offer a b c; do
    case $kind in
      volume) echo "would export and keep volume $a ($entry_offer) until $keep_until" ;;
      database) echo "would export and keep database $c ($entry_offer, $a in $b) until $keep_until" ;;
      mailbox) echo "would export and keep mailbox $a until $keep_until" ;;
      bucket) echo "would export and keep bucket $a ($entry_offer) until $keep_until" ;;
    esac
  done
  exit 0
fi

out="$EXPORTS_DIR/$into"
[ ! -e "$out" ] || fail "$out exists already"
part="$EXPORTS_DIR/.$into.part"
rm -rf "$part"
mkdir -p "$part" "$RETAINED_DIR"
trap 'rm -rf "$part"' EXIT
trap 'exit 1' INT TERM

# The S3 settings on stdin, read only when a bucket is exported (key=value lines, never evaluated).
s3_endpoint="" s3_region="" s3_key="" s3_secret=""
read_s3_settings() {
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      s3_endpoint=*) s3_endpoint=${line#*=} ;;
      s3_region=*) s3_region=${line#*=} ;;
      s3_key=*) s3_key=${line#*=} ;;
      s3_secret=*) s3_secret=${line#*=} ;;
      *) ;;
    esac
  done
  case $s3_endpoint in http://* | https://*) ;; *) fail "a bucket needs s3_endpoint= on stdin" ;; esac
  case $s3_endpoint$s3_region$s3_key in *[!A-Za-z0-9.:/_-]*) fail "s3 settings hold a character other than A-Z a-z 0-9 . : / _ -" ;; esac
  case $s3_secret in "" | *[\"\\]*) fail "s3_secret is empty or holds a quote or a backslash" ;; esac
}

# S3 wants the payload's SHA-256 in x-amz-content-sha256 (Garage: 400 "Missing X-Amz-Content-Sha256
# field"), which curl 7.88 does not add by itself; a GET has an empty payload.
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# s3_get <path and query> <file>: one signed GET (curl's --aws-sigv4, https://curl.se/docs/manpage.html#--aws-sigv4),
# the key in curl's config on stdin (-K -), never in its arguments.
s3_get() {
  code=$(printf 'url = "%s%s"\nuser = "%s:%s"\naws-sigv4 = "aws:amz:%s:s3"\nheader = "x-amz-content-sha256: %s"\n' "$s3_endpoint" "$1" "$s3_key" "$s3_secret" "$s3_region" "$EMPTY_SHA256" |
    curl --silent --show-error --connect-timeout 20 --max-time 600 -K - -o "$2" -w '%{http_code}') || return 1
  # The store's error document says why (S3 errors name no secret).
  [ "$code" = 200 ] || { printf 'decommission: S3 GET %s: HTTP %s: %s\n' "${1%%\?*}" "$code" "$(head -c 300 "$2")" >&2; return 1; }
}

# export_bucket <offer> <bucket>: every object, listed by ListObjectsV2 page by page
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html), into site.tar.
export_bucket() {
  dir="$part/$1/site"
  mkdir -p "$dir"
  token=""
  while :; do
    query="?list-type=2"
    [ -z "$token" ] || query="$query&continuation-token=$(jq -rn --arg t "$token" '$t | @uri')"
    s3_get "/$2$query" "$part/.list.xml"
    # One <Key> per object; XML escapes undone (the five of https://www.w3.org/TR/xml/#sec-predefined-ent).
    sed 's/<Key>/\n<Key>/g' "$part/.list.xml" | sed -n 's:^<Key>\([^<]*\)</Key>.*:\1:p' |
      sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&amp;/\&/g' >"$part/.keys"
    # The listing ends without a line break: its last key is the last line.
    while IFS= read -r key || [ -n "$key" ]; do
      case "/$key/" in *"/../"* | *"/./"* | "//"*) fail "bucket $2: object key with a . or .. part refused" ;; esac
      mkdir -p "$(dirname "$dir/$key")"
      # Their stdin is not the list of keys.
      s3_get "/$2/$(jq -rn --arg k "$key" '$k | split("/") | map(@uri) | join("/")' </dev/null)" "$dir/$key" </dev/null
    done <"$part/.keys"
    grep -q '<IsTruncated>true</IsTruncated>' "$part/.list.xml" || break
    token=$(sed -n 's:.*<NextContinuationToken>\([^<]*\)</NextContinuationToken>.*:\1:p' "$part/.list.xml")
    [ -n "$token" ] || fail "bucket $2: a truncated listing without a continuation token"
  done
  rm -f "$part/.list.xml" "$part/.keys"
  tar -C "$dir" -cf "$part/$1/site.tar" .
  rm -rf "$dir"
}

# export_database <offer> <engine> <container> <database>: plain SQL, which any server of the engine reads.
export_database() {
  mkdir -p "$part/$1"
  case $2 in
    # Plain format (-Fp): SQL text (https://www.postgresql.org/docs/15/app-pgdump.html).
    postgres) docker exec "$3" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec pg_dump -h 127.0.0.1 -U "$POSTGRES_USER" -Fp --create "$1"' sh "$4" >"$part/$1/$4.sql" ;;
    mariadb) docker exec "$3" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb-dump -uroot --single-transaction --routines --triggers --events --databases "$1"' sh "$4" >"$part/$1/$4.sql" ;;
    *) fail "unknown database engine $2" ;;
  esac
}

# sql_rows <engine> <container> <database> <query>: one value a line, unescaped.
sql_rows() {
  case $1 in
    postgres) docker exec "$2" sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" exec psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$1" -v ON_ERROR_STOP=1 -qAt -c "$2"' sh "$3" "$4" ;;
    # --raw: newlines in a value are printed as they are (https://mariadb.com/kb/en/mariadb-command-line-client/).
    mariadb) docker exec "$2" sh -c 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb -uroot -N -B --raw -D "$1" -e "$2"' sh "$3" "$4" ;;
  esac
}

# export_nextcloud_dav <offer> <engine> <container> <database>: each user's calendars (.ics) and
# address books (.vcf), from the rows Nextcloud's DAV server keeps each object in, whole
# (apps/dav/lib/CalDAV/CalDavBackend.php `calendarobjects.calendardata`, CardDav/CardDavBackend.php
# `cards.carddata`, table prefix oc_): a stream of iCalendar objects is an .ics file
# (RFC 5545 §3.4 icalstream), a sequence of vCards a .vcf file (RFC 6350 §3.1).
export_nextcloud_dav() {
  dir="$part/$1/dav"
  mkdir -p "$dir"
  text=convert_from
  [ "$2" = postgres ] || text=""
  sql_rows "$2" "$3" "$4" "SELECT id, principaluri, uri FROM oc_calendars" | tr '\t|' '  ' | while read -r id principal uri; do
    user=${principal##*/}
    case $user$uri in *[!A-Za-z0-9@._-]*) fail "nextcloud: calendar $id has a name other than A-Z a-z 0-9 @ . _ -" ;; esac
    sql_rows "$2" "$3" "$4" "SELECT $text(calendardata${text:+, 'UTF8'}) FROM oc_calendarobjects WHERE calendarid = $id ORDER BY id" >"$dir/$user-$uri.ics"
  done
  sql_rows "$2" "$3" "$4" "SELECT id, principaluri, uri FROM oc_addressbooks" | tr '\t|' '  ' | while read -r id principal uri; do
    user=${principal##*/}
    case $user$uri in *[!A-Za-z0-9@._-]*) fail "nextcloud: address book $id has a name other than A-Z a-z 0-9 @ . _ -" ;; esac
    sql_rows "$2" "$3" "$4" "SELECT $text(carddata${text:+, 'UTF8'}) FROM oc_cards WHERE addressbookid = $id ORDER BY id" >"$dir/$user-$uri.vcf"
  done
}

# export_volume <offer> <volume>: its files as a tar; a WordPress volume also gives its uploads and
# the site's WXR (`wp export --stdout`, https://developer.wordpress.org/cli/commands/export/, run in
# the container that mounts it), a Nextcloud volume each user's files (`data/<user>/files`,
# https://docs.nextcloud.com/server/latest/admin_manual/configuration_files/file_conventions.html).
export_volume() {
  data="$VOLUMES_DIR/$2/_data"
  [ -d "$data" ] || fail "volume $2 does not exist"
  mkdir -p "$part/$1"
  tar -C "$data" -cf "$part/$1/volume-$2.tar" .
  if [ -d "$data/wp-content" ]; then
    [ ! -d "$data/wp-content/uploads" ] || tar -C "$data/wp-content" -cf "$part/$1/uploads.tar" uploads
    app=$(docker ps --filter "volume=$2" --format '{{.Names}}' | head -n 1)
    [ -n "$app" ] || fail "volume $2: no running container to run wp export in"
    docker exec "$app" wp export --stdout --allow-root --path=/var/www/html >"$part/$1/wordpress.xml"
  fi
  if [ -d "$data/data" ]; then
    for user_dir in "$data"/data/*/files; do
      [ -d "$user_dir" ] || continue
      user=$(basename "$(dirname "$user_dir")")
      tar -C "$(dirname "$user_dir")" -cf "$part/$1/files-$user.tar" files
    done
  fi
}

mailstore=$(awk '$1 == "mailstore" { print $3; exit }' "$FRAGMENTS_DIR/platform.backup" 2>/dev/null || true)
if printf '%s\n' "$entries" | grep -q '^bucket '; then read_s3_settings; fi
printf '%s\n' "$entries" >"$part/.entries"
while read -r kind entry_offer a b c; do
  case $kind in
    volume) export_volume "$entry_offer" "$a" </dev/null ;;
    database)
      export_database "$entry_offer" "$a" "$b" "$c" </dev/null
      case $c in *_nextcloud) export_nextcloud_dav "$entry_offer" "$a" "$b" "$c" </dev/null ;; esac
      ;;
    mailbox)
      [ -n "$mailstore" ] || fail "mailbox $a: host $BACKUP_HOST holds no mail store"
      domain=${a#*@}
      local_part=${a%@*}
      mkdir -p "$part/mail"
      # The Maildir as Dovecot keeps it (https://doc.dovecot.org/2.3/admin_manual/mailbox_formats/maildir/).
      if [ -d "$VOLUMES_DIR/$mailstore/_data/$domain/$local_part/Maildir" ]; then
        tar -C "$VOLUMES_DIR/$mailstore/_data/$domain/$local_part" -cf "$part/mail/$a.maildir.tar" Maildir
      else
        echo "mailbox $a has no mail yet" >>"$part/mail/empty-mailboxes.txt"
      fi
      ;;
    bucket) export_bucket "$entry_offer" "$a" </dev/null ;;
  esac
done <"$part/.entries"
rm -f "$part/.entries"

# The listing: every file with its size and SHA-256, for the tenant to check what they received.
(cd "$part" && find . -type f ! -path ./LISTING | sort | while IFS= read -r f; do
  printf '%s  %s  %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(wc -c <"$f" | tr -d ' ')" "${f#./}"
done) >"$part/LISTING"
mv "$part" "$out"
echo "exported${offer:+ offer $offer of} $set_name into $out ($(wc -l <"$out/LISTING" | tr -d ' ') files, listed in LISTING)"

record="$RETAINED_DIR/$set_name${offer:+-$offer}.retained"
{
  echo "# Decommissioned: deleted by purge.sh after the date below, unless a backup fragment lists it again."
  echo "until $keep_until"
  echo "set $set_name"
  echo "offer ${offer:--}"
  echo "exported $out"
  printf '%s\n' "$entries"
} >"$record.tmp"
mv "$record.tmp" "$record"
printf '%s\n' "$entries" | while read -r kind _o a _b c; do
  case $kind in database) echo "kept until $keep_until: database $c" ;; *) echo "kept until $keep_until: $kind $a" ;; esac
done
