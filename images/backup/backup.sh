#!/bin/sh
# Backs up this host: one restic snapshot per backup set (a tenant, or the platform), each set
# described by its fragment <set>.backup in $FRAGMENTS_DIR, written by the stack that owns it
# (docs/services/backups.md "Fragments"). Databases are dumped first, through `docker exec`, never
# copied live; a container named in a volume line is stopped around the snapshot and started again
# whatever happens. A set that fails does not stop the others; the exit code says one failed.
# Usage: backup.sh [set...]   (default: every set of this host)
set -eu

FRAGMENTS_DIR=${FRAGMENTS_DIR:-/srv/alacarte/backup.d}
VOLUMES_DIR=${VOLUMES_DIR:-/var/lib/docker/volumes}
STAGING_DIR=${STAGING_DIR:-/var/backups/alacarte}
METRICS_DIR=${METRICS_DIR:-/srv/alacarte/metrics}
: "${BACKUP_HOST:?BACKUP_HOST names this host in the snapshots}"
: "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is the backup target}"

log() { printf '%s backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# One repository for every host: made on first use. `cat config` fails on a missing repository,
# and also on a wrong password or an unreachable target, where `init` then fails too, loudly.
if ! restic cat config >/dev/null 2>&1; then
  log "initialising the repository"
  restic init >/dev/null
fi

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib-dump.sh
. "$(dirname "$0")/lib-dump.sh"

# The containers stopped for the snapshot of the set, started again on exit, whatever happens.
STOPPED=""
restart_stopped() {
  for c in $STOPPED; do docker start "$c" >/dev/null || log "could not start $c again"; done
  STOPPED=""
}

# backup_set <set>: runs in a process of its own (below), so that `set -e` holds in it: a shell
# ignores -e inside a function called as a condition.
backup_set() {
  set_name=$1
  fragment="$FRAGMENTS_DIR/$set_name.backup"
  stage="$STAGING_DIR/$set_name"
  paths="$STAGING_DIR/.$set_name.paths"
  # A set with no volume or database here (its mailboxes and buckets are saved with the platform's
  # stores) needs no snapshot of its own.
  if ! grep -qE '^(volume|database) ' "$fragment"; then
    log "$set_name: nothing of its own on this host"
    exit 0
  fi
  rm -rf "$stage"
  mkdir -p "$stage"
  printf '%s\n' "$stage" >"$paths"
  while read -r kind offer a b c _rest; do
    case $kind in
      database) dump "$a" "$b" "$c" "$stage/$a/$b/$c.dump" ;;
      volume)
        [ -d "$VOLUMES_DIR/$a/_data" ] || { log "$set_name: volume $a does not exist"; exit 1; }
        printf '%s\n' "$VOLUMES_DIR/$a/_data" >>"$paths"
        ;;
      "" | "#"* | mailbox | mailstore | bucket) ;;
      *) log "$set_name: unknown line kind $kind (offer $offer)"; exit 1 ;;
    esac
  done <"$fragment"
  trap restart_stopped EXIT
  trap 'exit 1' INT TERM
  # Containers that must not write while their files are read (a SQLite file, an app in maintenance).
  # shellcheck disable=SC2013 # container names hold no space (Docker: [a-zA-Z0-9][a-zA-Z0-9_.-]*)
  for c in $(awk '$1 == "volume" && $5 != "-" { print $5 }' "$fragment" | sort -u); do
    docker stop "$c" >/dev/null
    STOPPED="$STOPPED $c"
  done
  # --files-from-verbatim: each line is a path, never a pattern (restic 0.14 `backup --help`).
  restic backup --quiet --host "$BACKUP_HOST" --tag "set:$set_name" --files-from-verbatim "$paths"
  restart_stopped
  rm -f "$paths"
}

if [ "${1:-}" = "--set" ]; then
  backup_set "$2"
  exit 0
fi

metric() { printf '%s{set="%s",host="%s"} %s\n' "$1" "$2" "$BACKUP_HOST" "$3"; }

sets=$*
if [ -z "$sets" ]; then
  for f in "$FRAGMENTS_DIR"/*.backup; do
    [ -e "$f" ] || continue
    sets="$sets $(basename "$f" .backup)"
  done
fi

mkdir -p "$METRICS_DIR"
status=0
previous="$METRICS_DIR/alacarte_backup.prom"
metrics="$METRICS_DIR/.alacarte_backup.prom.tmp"
# The sets not run this time keep their lines.
if [ -f "$previous" ]; then
  cp "$previous" "$metrics"
else
  : >"$metrics"
fi
for s in $sets; do
  case $s in *[!a-z0-9-]*) log "skipping a set with an invalid name"; status=1; continue ;; esac
  [ -f "$FRAGMENTS_DIR/$s.backup" ] || { log "no fragment for set $s"; status=1; continue; }
  last_success=$(grep "^alacarte_backup_last_success_timestamp_seconds{set=\"$s\"," "$metrics" || true)
  grep -v "{set=\"$s\"," "$metrics" >"$metrics.next" || true
  mv "$metrics.next" "$metrics"
  log "$s: started"
  if sh "$0" --set "$s"; then
    log "$s: saved"
    metric alacarte_backup_last_run_ok "$s" 1 >>"$metrics"
    metric alacarte_backup_last_success_timestamp_seconds "$s" "$(date -u +%s)" >>"$metrics"
  else
    log "$s: FAILED"
    status=1
    metric alacarte_backup_last_run_ok "$s" 0 >>"$metrics"
    # The last success stays what it was, so "backup stale" keeps counting from it.
    [ -z "$last_success" ] || printf '%s\n' "$last_success" >>"$metrics"
  fi
done
# node exporter's textfile collector reads *.prom: the file is replaced whole, never seen half
# written (https://github.com/prometheus/node_exporter#textfile-collector).
mv "$metrics" "$previous"
exit "$status"
