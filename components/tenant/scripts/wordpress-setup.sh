#!/bin/sh
# Post-install of a tenant's WordPress site, run by AppSetup in the site's wp-cli container as
# uid 33, in /var/www/html (docs/services/wordpress.md "Setup"). Idempotent: every step reads the
# state first, so a second run changes nothing.
#   $1 site URL   $2 site title   $3 admin e-mail   $4 WordPress version (the tenant's pin)
#   $5 plugin pin "<slug>|<version>|<zip URL>"      $6 the tenant gate's PHP (a must-use plugin)
#   $7… members "<username>:admin" or "<username>:member"
# No secret comes in: the admin password is made here and given to wp-cli on its standard input.
set -eu
# No pathname expansion: the word splits below are of logins and arguments, never of file patterns.
set -f
default_ifs=$IFS

site_url=$1
title=$2
admin_email=$3
core_version=$4
plugin_pin=$5
gate_php=$6
shift 6

# The login WordPress is installed with: a tenant username starts with a letter, so none can take it.
admin_login=_alacarte
gate_file=wp-content/mu-plugins/alacarte-tenant-gate.php

# The web container's entrypoint writes wp-config.php into the shared volume on its first start,
# and the database server may still be starting: wait for both.
tries=0
until wp db query 'SELECT 1' >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "wordpress-setup: the database is not reachable (or wp-config.php is missing)" >&2
    exit 1
  fi
  sleep 2
done

# The core, once. The admin password is random and known to no one: password sign-in is refused.
if ! wp core is-installed; then
  admin_password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$admin_password" | wp core install --url="$site_url" --title="$title" \
    --admin_user="$admin_login" --admin_email="$admin_email" --skip-email --prompt=admin_password >/dev/null
fi

# The core at the tenant's pin: the image's entrypoint copies WordPress into the volume only when
# it is empty, so a new image alone upgrades nothing (docker-library/wordpress docker-entrypoint.sh).
# wp-cli updates forwards only without --force: a lower pin is left to ops (docs/services/wordpress.md).
if [ "$(wp core version)" != "$core_version" ]; then
  wp core update --version="$core_version"
  wp core update-db
fi

# The OpenID Connect plugin, at its pinned version only.
plugin=${plugin_pin%%|*}
rest=${plugin_pin#*|}
version=${rest%%|*}
url=${rest#*|}
installed=$(wp plugin get "$plugin" --field=version 2>/dev/null || true)
if [ -z "$installed" ]; then
  wp plugin install "$url"
elif [ "$installed" != "$version" ]; then
  wp plugin install "$url" --force
fi
if ! wp plugin is-active "$plugin"; then
  wp plugin activate "$plugin"
fi

# The tenant gate, rewritten only when it differs.
mkdir -p wp-content/mu-plugins
printf '%s\n' "$gate_php" >"$gate_file.new"
if [ -f "$gate_file" ] && cmp -s "$gate_file.new" "$gate_file"; then
  rm -f "$gate_file.new"
else
  mv -f "$gate_file.new" "$gate_file"
fi

# The role a username should have: administrator, editor, or none (not a member). Usernames
# match ^[a-z][a-z0-9._-]{1,31}$ (infra/contract/names.ts), so the list splits on spaces safely.
wanted_role() {
  role=
  for m in $members; do
    case $m in
      "$1:admin") role=administrator ;;
      "$1:member") role=editor ;;
    esac
  done
  printf '%s' "$role"
}

members="$*"
# One login a line: an account made by hand in the admin screens may hold a space.
users=$(wp user list --field=user_login)
IFS='
'
for login in $users; do
  IFS=$default_ifs
  [ "$login" = "$admin_login" ] && continue
  role=$(wanted_role "$login")
  current=$(wp user get "$login" --field=roles)
  if [ -n "$role" ]; then
    [ "$current" = "$role" ] || wp user set-role "$login" "$role"
    continue
  fi
  # Not a member any more: no role, no session, no application password.
  [ -z "$current" ] || wp user remove-role "$login"
  if [ "$(wp user session list "$login" --format=count)" != "0" ]; then
    wp user session destroy "$login" --all
  fi
  if [ "$(wp user application-password list "$login" --format=count)" != "0" ]; then
    wp user application-password delete "$login" --all
  fi
done
