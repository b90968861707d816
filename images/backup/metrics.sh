#!/bin/sh
# Writes the use and quota of every volume of this host's backup sets, for node exporter's textfile
# collector (https://github.com/prometheus/node_exporter#textfile-collector): the alerts warn
# before a tenant's volume is full (docs/services/monitoring.md).
set -eu
FRAGMENTS_DIR=${FRAGMENTS_DIR:-/srv/alacarte/backup.d}
VOLUMES_DIR=${VOLUMES_DIR:-/var/lib/docker/volumes}
METRICS_DIR=${METRICS_DIR:-/srv/alacarte/metrics}
: "${BACKUP_HOST:?BACKUP_HOST names this host}"

mkdir -p "$METRICS_DIR"
out="$METRICS_DIR/.alacarte_volumes.prom.tmp"
{
  echo "# HELP alacarte_volume_used_bytes Bytes used in a volume of a backup set."
  echo "# TYPE alacarte_volume_used_bytes gauge"
  echo "# HELP alacarte_volume_quota_bytes The quota its service declares for the volume."
  echo "# TYPE alacarte_volume_quota_bytes gauge"
  for f in "$FRAGMENTS_DIR"/*.backup; do
    [ -e "$f" ] || continue
    set_name=$(basename "$f" .backup)
    while read -r kind offer volume quota _stop; do
      [ "$kind" = volume ] || continue
      [ -d "$VOLUMES_DIR/$volume/_data" ] || continue
      used=$(du -sb "$VOLUMES_DIR/$volume/_data" | cut -f1)
      labels="set=\"$set_name\",offer=\"$offer\",volume=\"$volume\",host=\"$BACKUP_HOST\""
      echo "alacarte_volume_used_bytes{$labels} $used"
      echo "alacarte_volume_quota_bytes{$labels} $quota"
    done <"$f"
  done
} >"$out"
mv "$out" "$METRICS_DIR/alacarte_volumes.prom"
