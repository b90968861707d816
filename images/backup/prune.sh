#!/bin/sh
# Applies the retention policy to every snapshot of the repository, all hosts and sets together,
# one group per host and set (restic `forget --group-by host,tags`), then prunes the data no
# snapshot uses. It takes the repository's exclusive lock: it runs from one host only, at a time of
# its own, and tries again while a backup holds the lock (restic 0.14 has no --retry-lock).
set -eu
: "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is the backup target}"
KEEP_DAILY=${KEEP_DAILY:-7}
KEEP_WEEKLY=${KEEP_WEEKLY:-5}
KEEP_MONTHLY=${KEEP_MONTHLY:-12}
PRUNE_ATTEMPTS=${PRUNE_ATTEMPTS:-6}
PRUNE_RETRY_SECONDS=${PRUNE_RETRY_SECONDS:-600}

attempt=1
until restic forget --quiet --group-by host,tags --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" --prune; do
  [ "$attempt" -lt "$PRUNE_ATTEMPTS" ] || { echo "prune: gave up after $attempt attempts" >&2; exit 1; }
  attempt=$((attempt + 1))
  sleep "$PRUNE_RETRY_SECONDS"
done
