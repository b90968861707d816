#!/bin/sh
# The backup job of one host (docs/services/backups.md): `start` runs cron with the schedules of
# the environment; `backup`, `restore`, `metrics`, `prune`, `notices`, `decommission` and `purge`
# run one job now (ops run `restore` and `decommission` through `docker exec`, as `npm run restore`
# and `npm run decommission` do).
set -eu
LIB=/usr/local/lib/alacarte-backup
ENV_FILE=/run/alacarte-backup.env

case ${1:-start} in
  start)
    : "${BACKUP_SCHEDULE:?BACKUP_SCHEDULE is a cron schedule}"
    # cron starts its jobs with an empty environment: the job's settings, secrets included, are
    # kept in a file only root reads, inside the container.
    (umask 077 && export -p >"$ENV_FILE")
    mkdir -p /etc/crontabs
    {
      echo "$BACKUP_SCHEDULE . $ENV_FILE && $LIB/backup.sh >/proc/1/fd/1 2>/proc/1/fd/2"
      echo "${METRICS_SCHEDULE:-*/30 * * * *} . $ENV_FILE && $LIB/metrics.sh >/proc/1/fd/1 2>/proc/1/fd/2"
      if [ "${PRUNE:-false}" = true ]; then
        echo "${PRUNE_SCHEDULE:?PRUNE_SCHEDULE is a cron schedule} . $ENV_FILE && $LIB/prune.sh >/proc/1/fd/1 2>/proc/1/fd/2"
      fi
      # Decommissioned data past its retention, on every host (docs/decommission.md).
      echo "${PURGE_SCHEDULE:-50 3 * * *} . $ENV_FILE && $LIB/purge.sh >/proc/1/fd/1 2>/proc/1/fd/2"
      if [ -n "${NOTICES_SCHEDULE:-}" ]; then
        echo "$NOTICES_SCHEDULE . $ENV_FILE && $LIB/notices.sh >/proc/1/fd/1 2>/proc/1/fd/2"
      fi
    } >/etc/crontabs/root
    "$LIB/metrics.sh" || true
    exec busybox crond -f -l 8 -c /etc/crontabs
    ;;
  backup | restore | metrics | prune | notices | decommission | purge)
    job=$1
    shift
    exec "$LIB/$job.sh" "$@"
    ;;
  *)
    echo "usage: alacarte-backup start|backup [set...]|restore <set> [options]|metrics|prune|notices|decommission <set> [options]|purge" >&2
    exit 2
    ;;
esac
