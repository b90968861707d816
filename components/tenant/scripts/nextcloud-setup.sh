#!/bin/sh
# Post-install configuration of a tenant's Nextcloud suite, run inside its app container as
# www-data on every `up` whose inputs changed (docs/services/nextcloud.md "Post-install").
# Every step reads the state first or is an upsert: a second run changes nothing.
#
# Arguments:
#   $1 the suite's hostname            $2 Keycloak's issuer URL of the realm
#   $3 the OIDC client id              $4 the user_oidc group whitelist regex (the tenant's group)
#   $5 the default quota ("20 GB")     $6 the office server's URL, or "" without office
#   $7 the apps wanted, space-separated ids
#   $8 every app the suite manages, space-separated id|version|archive URL (no URL: shipped)
#   $9 the members, space-separated username|1 (an admin) or username|0
# Standard input: the OIDC client secret, then the bootstrap administrator's password, a line each.
# shellcheck disable=SC2016 # the single-quoted $ are PHP's, for `php -r`
set -eu

host=$1 issuer=$2 client_id=$3 group_regex=$4 quota=$5 office_url=$6 wanted_apps=$7 app_pins=$8 members=$9
IFS= read -r oidc_secret
IFS= read -r admin_password
admin_user=${NEXTCLOUD_ADMIN_USER:?the bootstrap administrator comes from the container}
root=${NEXTCLOUD_ROOT:-/var/www/html}

occ() {
  if [ -n "${OCC:-}" ]; then "$OCC" "$@"; else php "$root/occ" "$@"; fi
}

# Reads JSON on stdin and runs PHP code on it as $j, the other arguments as $argv[1]… (the image
# has PHP, not jq).
json() {
  code=$1
  shift
  php -r '$j = json_decode(stream_get_contents(STDIN), true); '"$code" -- "$@"
}

# Whether a space-separated list holds a word.
listed() {
  case " $1 " in *" $2 "*) return 0 ;; *) return 1 ;; esac
}

say() { echo "nextcloud-setup: $*" >&2; }

# 1. The image installs Nextcloud on the container's first start (its entrypoint's
#    maintenance:install): wait until it reports installed and out of maintenance.
tries=0
until occ status --output=json 2>/dev/null | json 'exit(($j["installed"] ?? false) === true && ($j["maintenance"] ?? true) === false ? 0 : 1);'; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then say "not installed after 10 minutes"; exit 1; fi
  sleep 5
done

# 2. System settings: each set overwrites, so a second run writes the same values.
occ config:system:set trusted_domains 0 --value=localhost >/dev/null
occ config:system:set trusted_domains 1 --value="$host" >/dev/null
occ config:system:set overwrite.cli.url --value="https://$host" >/dev/null
# Only Keycloak signs people in: no password reset link, no account made outside the members.
occ config:system:set lost_password_link --value=disabled >/dev/null
occ config:system:set user_oidc soft_auto_provision --type=boolean --value=false >/dev/null
occ background:cron >/dev/null
occ config:app:set files default_quota --value="$quota" >/dev/null

# 3. Apps: the pinned version of each wanted app, and no other app the suite manages.
apps_json=$(occ app:list --output=json)
is_enabled() { printf '%s' "$apps_json" | json 'exit(isset($j["enabled"][$argv[1]]) ? 0 : 1);' "$1"; }

install_app() { # id version url
  tmp=$(mktemp -d "$root/custom_apps/.download.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  curl -fsSL --retry 3 -o "$tmp/app.tar.gz" "$3"
  tar -xzf "$tmp/app.tar.gz" -C "$tmp"
  # The archive must hold the app and the version pinned, nothing else.
  if ! grep -q "<version>$2</version>" "$tmp/$1/appinfo/info.xml"; then
    say "the archive of $1 does not hold version $2: $3"
    exit 1
  fi
  rm -rf "$root/custom_apps/$1.previous"
  if [ -d "$root/custom_apps/$1" ]; then mv "$root/custom_apps/$1" "$root/custom_apps/$1.previous"; fi
  mv "$tmp/$1" "$root/custom_apps/$1"
  rm -rf "$root/custom_apps/$1.previous" "$tmp"
  trap - EXIT
}

upgraded=0
for pin in $app_pins; do
  id=${pin%%|*}
  rest=${pin#*|}
  version=${rest%%|*}
  url=${rest#*|}
  if listed "$wanted_apps" "$id"; then
    if [ -n "$url" ]; then
      installed=$(occ config:app:get "$id" installed_version 2>/dev/null || true)
      if [ "$installed" != "$version" ]; then
        say "installing $id $version"
        install_app "$id" "$version" "$url"
        if [ -n "$installed" ]; then upgraded=1; fi
      fi
    fi
    if ! is_enabled "$id"; then occ app:enable "$id" >/dev/null; fi
  elif is_enabled "$id"; then
    say "disabling $id"
    occ app:disable "$id" >/dev/null
  fi
done
# A newer code of an installed app is migrated by the upgrade.
if [ "$upgraded" = 1 ]; then occ upgrade >/dev/null; fi

# 4. Sign-in: Keycloak only, for the members of the tenant's group only (the whitelist is checked
#    on the ID token's groups claim before any account is looked up, user_oidc LoginController).
printf '%s' "$oidc_secret" | occ user_oidc:provider keycloak \
  --clientid="$client_id" --clientsecret-file=/dev/stdin \
  --discoveryuri="$issuer/.well-known/openid-configuration" --scope="openid email profile" \
  --unique-uid=0 --mapping-uid=preferred_username --mapping-display-name=name --mapping-email=email \
  --mapping-groups=groups --group-provisioning=0 \
  --group-whitelist-regex="$group_regex" --group-restrict-login-to-whitelist=1 \
  --check-bearer=0 --send-id-token-hint=1 >/dev/null
occ config:app:set user_oidc allow_multiple_user_backends --value=0 >/dev/null
provider_id=$(occ user_oidc:provider keycloak --output=json | json 'echo $j["id"];')

# 5. Office: the platform's office server, when the tenant has it.
if [ -n "$office_url" ]; then
  occ config:app:set richdocuments wopi_url --value="$office_url" >/dev/null
  occ richdocuments:activate-config >/dev/null
fi

# 6. Members: one account each in the user_oidc backend (its OCS API creates or updates), the
#    admins in Nextcloud's admin group, and every other account disabled with its sessions and
#    app passwords deleted.
users_json=$(occ user:list --output=json)
admins_json=$(occ group:list --output=json)
has_user() { printf '%s' "$users_json" | json 'exit(array_key_exists($argv[1], $j) ? 0 : 1);' "$1"; }
in_admins() { printf '%s' "$admins_json" | json 'exit(in_array($argv[1], $j["admin"] ?? [], true) ? 0 : 1);' "$1"; }
is_disabled() { occ user:info "$1" --output=json | json 'exit(($j["enabled"] ?? true) === false ? 0 : 1);'; }

member_names=""
for m in $members; do
  user=${m%|*}
  admin=${m#*|}
  member_names="$member_names $user"
  if ! has_user "$user"; then
    say "creating the account of a member"
    printf 'user = "%s:%s"\n' "$admin_user" "$admin_password" |
      curl -fsS -K - -o /dev/null -X POST -H "OCS-APIRequest: true" \
        --data-urlencode "providerId=$provider_id" --data-urlencode "userId=$user" \
        "http://localhost/ocs/v2.php/apps/user_oidc/api/v1/user"
  elif is_disabled "$user"; then
    occ user:enable "$user" >/dev/null
  fi
  if [ "$admin" = 1 ]; then
    if ! in_admins "$user"; then occ group:adduser admin "$user" >/dev/null; fi
  elif in_admins "$user"; then
    occ group:removeuser admin "$user" >/dev/null
  fi
done

tomorrow=$(($(date +%s) + 86400))
for user in $(printf '%s' "$users_json" | json 'foreach (array_keys($j) as $u) echo $u, "\n";'); do
  if [ "$user" = "$admin_user" ] || listed "$member_names" "$user"; then continue; fi
  if in_admins "$user"; then occ group:removeuser admin "$user" >/dev/null; fi
  if ! is_disabled "$user"; then
    say "disabling an account that is no member any more"
    occ user:disable "$user" >/dev/null
  fi
  # Every session and app password: the tokens last used before tomorrow (--all is not in every
  # release; core/Command/User/AuthTokens/Delete.php takes unix seconds).
  occ user:auth-tokens:delete "$user" --last-used-before="$tomorrow" >/dev/null
done
