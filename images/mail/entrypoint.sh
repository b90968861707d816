#!/bin/bash
# The alacarte mail image's start (docs/services/mail.md):
#   entrypoint.sh render   fill in the Postfix, Dovecot, OpenDKIM and rspamd configuration from the environment
#   entrypoint.sh maps     build the Postfix tables of the assembled maps that changed
#   entrypoint.sh acme     one run of the ACME client (ACME_DIRECTORY) for the mail hostname
#   entrypoint.sh start    both, then rspamd, Dovecot and Postfix, then watch the maps and the certificate
# Every setting has the image's default; the end-to-end test points them at a scratch folder.
set -eu

: "${MAIL_HOSTNAME:?MAIL_HOSTNAME is required (the MX name)}"
MAIL_MAPS=${MAIL_MAPS:-/etc/alacarte/mail}
# The password files the assemble script builds (a folder a symlink swap replaces at once).
MAIL_LOGINS=${MAIL_LOGINS:-$MAIL_MAPS/passdb}
MAIL_ROOT=${MAIL_ROOT:-/var/mail}
TLS_CERT=${TLS_CERT:-/etc/alacarte/tls/fullchain.pem}
TLS_KEY=${TLS_KEY:-/etc/alacarte/tls/privkey.pem}
# Traefik's ACME store, when the mail server shares the reverse proxy's host (docs/services/mail.md
# "Certificate"): the certificate of MAIL_HOSTNAME is taken from it, and again on each renewal.
ACME_JSON=${ACME_JSON:-}
ACME_RESOLVER=${ACME_RESOLVER:-le}
# Elsewhere, its own ACME client: Debian's dehydrated against ACME_DIRECTORY (Let's Encrypt's),
# answering HTTP-01 on port 80 of the mail host with busybox's httpd; its account, keys and
# certificates in the state volume. Run at start, then every ACME_EVERY seconds (dehydrated renews
# 30 days before expiry, its RENEW_DAYS).
ACME_DIRECTORY=${ACME_DIRECTORY:-}
ACME_EMAIL=${ACME_EMAIL:-}
ACME_STATE=${ACME_STATE:-${DOVECOT_STATE:-/var/lib/dovecot}/acme}
ACME_HTTP_PORT=${ACME_HTTP_PORT:-80}
ACME_EVERY=${ACME_EVERY:-43200}
TEMPLATES=${TEMPLATES:-/usr/local/share/alacarte-mail}
POSTFIX_CONF=${POSTFIX_CONF:-/etc/postfix}
DOVECOT_CONF=${DOVECOT_CONF:-/etc/dovecot}
POSTFIX_QUEUE=${POSTFIX_QUEUE:-/var/spool/postfix}
POSTFIX_DATA=${POSTFIX_DATA:-/var/lib/postfix}
POSTFIX_LOG=${POSTFIX_LOG:-/dev/stdout}
DOVECOT_RUN=${DOVECOT_RUN:-/run/dovecot}
DOVECOT_STATE=${DOVECOT_STATE:-/var/lib/dovecot}
DOVECOT_LOG=${DOVECOT_LOG:-/dev/stderr}
LISTEN=${LISTEN:-*}
INET_PROTOCOLS=${INET_PROTOCOLS:-all}
SMTP_LISTEN=${SMTP_LISTEN:-smtp}
SUBMISSION_LISTEN=${SUBMISSION_LISTEN:-submission}
SUBMISSIONS_LISTEN=${SUBMISSIONS_LISTEN:-submissions}
IMAP_PORT=${IMAP_PORT:-143}
IMAPS_PORT=${IMAPS_PORT:-993}
SIEVE_PORT=${SIEVE_PORT:-4190}
# The SMTP service of the server's own mail (loopback only), where Sieve's replies are sent.
INTERNAL_SMTP_LISTEN=${INTERNAL_SMTP_LISTEN:-127.0.0.1:10025}
# Postfix's transport of mail leaving for other domains: smtp, or discard:<reason> (staging).
OUTBOUND_TRANSPORT=${OUTBOUND_TRANSPORT:-smtp}
SUBMISSION_HOST=$INTERNAL_SMTP_LISTEN
WATCH_SECONDS=${WATCH_SECONDS:-2}
# A person's own folders (webmail drafts and sent copies): 100 MiB.
PERSON_QUOTA_BYTES=${PERSON_QUOTA_BYTES:-104857600}
OPENDKIM_CONF=${OPENDKIM_CONF:-/etc/opendkim}
OPENDKIM_RUN=${OPENDKIM_RUN:-/run/opendkim}
OPENDKIM_PORT=${OPENDKIM_PORT:-8891}
SRS_FORWARD_PORT=${SRS_FORWARD_PORT:-10001}
SRS_REVERSE_PORT=${SRS_REVERSE_PORT:-10002}
SRS_SECRET=${SRS_SECRET:-$DOVECOT_STATE/alacarte-srs.secret}
SRS_PIDFILE=${SRS_PIDFILE:-$OPENDKIM_RUN/postsrsd.pid}
# rspamd (docs/services/mail.md "Spam filtering"): its local.d and override.d are rendered into
# RSPAMD_CONF (rspamd's LOCAL_CONFDIR); Postfix reaches its milter on loopback.
RSPAMD_CONF=${RSPAMD_CONF:-/etc/rspamd}
RSPAMD_RUN=${RSPAMD_RUN:-/run/rspamd}
RSPAMD_DB=${RSPAMD_DB:-/var/lib/rspamd}
RSPAMD_USER=${RSPAMD_USER:-_rspamd}
RSPAMD_GROUP=${RSPAMD_GROUP:-$(id -gn "$RSPAMD_USER")}
RSPAMD_MILTER_PORT=${RSPAMD_MILTER_PORT:-11332}
# The resolvers of SPF, DKIM, DMARC and blocklist lookups: host[:port] separated by commas, by
# default those of /etc/resolv.conf (an IPv6 address in brackets).
RSPAMD_DNS_SERVERS=${RSPAMD_DNS_SERVERS:-$(awk '$1 == "nameserver" { print ($2 ~ /:/ ? "[" $2 "]" : $2) }' /etc/resolv.conf 2>/dev/null | paste -sd, -)}
RSPAMD_DNS_SERVER_LIST=$(printf '%s' "${RSPAMD_DNS_SERVERS:-127.0.0.1}" | awk -v RS=, 'NF { printf "%s\"%s\"", sep, $1; sep = ", " }')
# The end-to-end test's GTUBE-like patterns; never in production (rspamd/local.d/options.inc).
RSPAMD_TEST_PATTERNS=${RSPAMD_TEST_PATTERNS:-false}
# Recipients a signed-in mailbox, and all the mailboxes of a domain, may send to in an hour.
RATE_DIR=${RATE_DIR:-$DOVECOT_STATE/rate}
RATE_PER_MAILBOX=${RATE_PER_MAILBOX:-300}
RATE_PER_DOMAIN=${RATE_PER_DOMAIN:-1500}
# The DKIM selector of every domain's key (the record is <selector>._domainkey.<domain>).
DKIM_SELECTOR=${DKIM_SELECTOR:-alacarte1}
# The owner of the mailboxes on disk (the image's vmail).
VMAIL_USER=${VMAIL_USER:-vmail}
VMAIL_GROUP=${VMAIL_GROUP:-$(id -gn "$VMAIL_USER")}
VMAIL_UID=$(id -u "$VMAIL_USER")
export MAIL_HOSTNAME MAIL_MAPS MAIL_LOGINS MAIL_ROOT TLS_CERT TLS_KEY POSTFIX_QUEUE POSTFIX_DATA POSTFIX_LOG \
  DOVECOT_RUN DOVECOT_STATE DOVECOT_LOG LISTEN INET_PROTOCOLS SMTP_LISTEN SUBMISSION_LISTEN SUBMISSIONS_LISTEN \
  IMAP_PORT IMAPS_PORT SIEVE_PORT PERSON_QUOTA_BYTES INTERNAL_SMTP_LISTEN SUBMISSION_HOST VMAIL_USER VMAIL_GROUP VMAIL_UID OPENDKIM_RUN OPENDKIM_PORT SRS_FORWARD_PORT SRS_REVERSE_PORT TEMPLATES RATE_DIR RATE_PER_MAILBOX RATE_PER_DOMAIN \
  DOVECOT_CONF RSPAMD_MILTER_PORT RSPAMD_DNS_SERVER_LIST RSPAMD_TEST_PATTERNS OUTBOUND_TRANSPORT

# The tables, in the order they are built: mailboxes before the redirections that may point at them.
TABLES="domains mailboxes senders redirections"

# Copies a template, each @NAME@ placeholder replaced by the environment's NAME (awk: no value is read as a pattern).
fill() {
  awk '{
    line = $0; out = ""
    while (match(line, /@[A-Z][A-Z0-9_]*@/)) {
      name = substr(line, RSTART + 1, RLENGTH - 2)
      if (!(name in ENVIRON)) { print "entrypoint: " FILENAME ": no value for @" name "@" > "/dev/stderr"; exit 2 }
      out = out substr(line, 1, RSTART - 1) ENVIRON[name]; line = substr(line, RSTART + RLENGTH)
    }
    print out line
  }' "$1" >"$2.tmp"
  mv -f "$2.tmp" "$2"
}

render() {
  mkdir -p "$POSTFIX_CONF" "$DOVECOT_CONF" "$POSTFIX_QUEUE" "$POSTFIX_DATA" "$DOVECOT_RUN" "$DOVECOT_STATE" \
    "$MAIL_MAPS" "$MAIL_ROOT"
  fill "$TEMPLATES/postfix/main.cf" "$POSTFIX_CONF/main.cf"
  fill "$TEMPLATES/postfix/master.cf" "$POSTFIX_CONF/master.cf"
  fill "$TEMPLATES/dovecot/dovecot.conf" "$DOVECOT_CONF/dovecot.conf"
  # The owners' Keycloak password, when the image is given a Keycloak client; else nothing.
  if [ -n "${OAUTH2_TOKEN_URL:-}" ]; then
    : "${OAUTH2_INTROSPECTION_URL:?OAUTH2_INTROSPECTION_URL is required with OAUTH2_TOKEN_URL}"
    : "${OAUTH2_CLIENT_ID:?OAUTH2_CLIENT_ID is required with OAUTH2_TOKEN_URL}"
    : "${OAUTH2_CLIENT_SECRET:?OAUTH2_CLIENT_SECRET is required with OAUTH2_TOKEN_URL}"
    export OAUTH2_TOKEN_URL OAUTH2_INTROSPECTION_URL OAUTH2_CLIENT_ID OAUTH2_CLIENT_SECRET
    fill "$TEMPLATES/dovecot/keycloak-passdb.conf" "$DOVECOT_CONF/keycloak-passdb.conf"
    # The client secret: readable by Dovecot's auth process (default_internal_user) and root only.
    for ext in keycloak-grant keycloak-token; do
      (umask 027; fill "$TEMPLATES/dovecot/$ext.conf.ext" "$DOVECOT_CONF/$ext.conf.ext")
      chgrp "$VMAIL_GROUP" "$DOVECOT_CONF/$ext.conf.ext"
    done
  else
    : >"$DOVECOT_CONF/keycloak-passdb.conf"
  fi
  mkdir -p "$OPENDKIM_CONF" "$OPENDKIM_RUN/keys"
  fill "$TEMPLATES/opendkim/opendkim.conf" "$OPENDKIM_CONF/opendkim.conf"
  chown postfix "$POSTFIX_DATA"
  chown "$VMAIL_USER:$VMAIL_GROUP" "$MAIL_ROOT"
  mkdir -p "$RSPAMD_CONF/local.d" "$RSPAMD_CONF/override.d" "$RSPAMD_RUN" "$RSPAMD_DB"
  for f in "$TEMPLATES"/rspamd/local.d/* "$TEMPLATES"/rspamd/override.d/*; do
    fill "$f" "$RSPAMD_CONF/${f#"$TEMPLATES/rspamd/"}"
  done
  chown "$RSPAMD_USER:$RSPAMD_GROUP" "$RSPAMD_RUN" "$RSPAMD_DB"
  mkdir -p "$DOVECOT_CONF/sieve"
  cp "$TEMPLATES/dovecot/spam-to-junk.sieve" "$DOVECOT_CONF/sieve/spam-to-junk.sieve"
  mkdir -p "$RATE_DIR"
  chown "$VMAIL_USER" "$RATE_DIR"
}

# Builds the hash table of each map whose text is newer than its table; a missing map is an empty
# one, so the server starts and answers before the first tenant.
# Sets REBUILT when a table was built.
maps() {
  REBUILT=
  for t in $TABLES; do
    [ -f "$MAIL_MAPS/$t" ] || : >"$MAIL_MAPS/$t"
    if [ ! -f "$MAIL_MAPS/$t.db" ] || [ "$MAIL_MAPS/$t" -nt "$MAIL_MAPS/$t.db" ]; then
      postmap -c "$POSTFIX_CONF" "hash:$MAIL_MAPS/$t"
      REBUILT=yes
    fi
  done
  [ -f "$MAIL_MAPS/users" ] || : >"$MAIL_MAPS/users"
}

# The signing keys of the domains (made on the host by the assemble script, root's only there):
# copied to OpenDKIM's own folder, listed in its tables. Sets DKIM_CHANGED when they changed.
dkim() {
  DKIM_CHANGED=
  keys="$OPENDKIM_RUN/keys"
  : >"$OPENDKIM_RUN/KeyTable.tmp"
  : >"$OPENDKIM_RUN/SigningTable.tmp"
  while read -r domain _; do
    if [ -z "$domain" ] || [ ! -f "$MAIL_MAPS/dkim/$domain.key" ]; then continue; fi
    if ! cmp -s "$MAIL_MAPS/dkim/$domain.key" "$keys/$domain.key"; then
      install -m 0600 -o opendkim -g opendkim "$MAIL_MAPS/dkim/$domain.key" "$keys/$domain.key"
    fi
    printf '%s %s:%s:%s\n' "$DKIM_SELECTOR._domainkey.$domain" "$domain" "$DKIM_SELECTOR" "$keys/$domain.key" >>"$OPENDKIM_RUN/KeyTable.tmp"
    # Looked up by the From: address's domain (opendkim.conf(5) SigningTable).
    printf '%s %s\n' "$domain" "$DKIM_SELECTOR._domainkey.$domain" >>"$OPENDKIM_RUN/SigningTable.tmp"
  done <"$MAIL_MAPS/domains"
  for t in KeyTable SigningTable; do
    if ! cmp -s "$OPENDKIM_RUN/$t.tmp" "$OPENDKIM_RUN/$t"; then
      mv -f "$OPENDKIM_RUN/$t.tmp" "$OPENDKIM_RUN/$t"
      DKIM_CHANGED=yes
    else
      rm -f "$OPENDKIM_RUN/$t.tmp"
    fi
  done
}

# postsrsd with the hosted domains excluded (their own mail keeps its sender: the server is their
# MX, so SPF passes); started again when they change. Sets nothing.
SRS_EXCLUDED=
srs() {
  excluded=$(awk '{ print $1 }' "$MAIL_MAPS/domains" | sort -u | paste -sd, -)
  if [ -f "$SRS_PIDFILE" ] && [ "$excluded" = "$SRS_EXCLUDED" ]; then return; fi
  if [ -f "$SRS_PIDFILE" ]; then kill "$(cat "$SRS_PIDFILE")" 2>/dev/null || true; rm -f "$SRS_PIDFILE"; sleep 1; fi
  if [ ! -s "$SRS_SECRET" ]; then (umask 077; head -c 32 /dev/urandom | base64 >"$SRS_SECRET"); fi
  postsrsd -d"$MAIL_HOSTNAME" -s"$SRS_SECRET" -l127.0.0.1 -f"$SRS_FORWARD_PORT" -r"$SRS_REVERSE_PORT" \
    -unobody -p"$SRS_PIDFILE" -D ${excluded:+"-X$excluded"}
  SRS_EXCLUDED=$excluded
}

# rspamd in the foreground as a child of this script, its log on standard error with the other
# servers'; it binds its ports as root and works as its own user. Sets RSPAMD_PID.
rspamd_start() {
  rspamd -f -c /etc/rspamd/rspamd.conf -u "$RSPAMD_USER" -g "$RSPAMD_GROUP" \
    --var="LOCAL_CONFDIR=$RSPAMD_CONF" --var="RUNDIR=$RSPAMD_RUN" --var="DBDIR=$RSPAMD_DB" &
  RSPAMD_PID=$!
  # rspamd writes no pid file in the foreground.
  echo "$RSPAMD_PID" >"$RSPAMD_RUN/rspamd.pid"
}

# Before the first certificate arrives the server still starts, on a throwaway self-signed one.
certificate() {
  if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
    echo "entrypoint: no certificate at $TLS_CERT yet: a temporary self-signed one until it comes" >&2
    mkdir -p "$(dirname "$TLS_CERT")" "$(dirname "$TLS_KEY")"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=$MAIL_HOSTNAME" \
      -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
  fi
}

# Puts a new certificate and key (this script's own files, moved away) in place of TLS_CERT and
# TLS_KEY, unless they are the ones there already.
install_certificate() {
  if cmp -s "$1" "$TLS_CERT" && cmp -s "$2" "$TLS_KEY"; then
    rm -f "$1" "$2"
    return 0
  fi
  mv -f "$2" "$TLS_KEY"
  mv -f "$1" "$TLS_CERT"
}

# The certificate and key of MAIL_HOSTNAME in Traefik's store (its `<resolver>.Certificates[]`,
# each with `domain.main`, `domain.sans`, and base64 PEM `certificate` and `key`: traefik v3
# pkg/provider/acme/local_store.go), written in place of TLS_CERT and TLS_KEY when they differ.
# Read again only when the store changes.
ACME_SEEN=
acme_certificate() {
  if [ -z "$ACME_JSON" ] || [ ! -s "$ACME_JSON" ]; then return 0; fi
  now=$(stat -c '%i.%.9Y.%s' "$ACME_JSON")
  if [ "$now" = "$ACME_SEEN" ]; then return 0; fi
  ACME_SEEN=$now
  pick() {
    jq -er --arg resolver "$ACME_RESOLVER" --arg host "$MAIL_HOSTNAME" --arg field "$1" \
      'first(.[$resolver].Certificates[]? | select(.domain.main == $host or ((.domain.sans // []) | index($host)))) | .[$field]' \
      "$ACME_JSON" | base64 -d
  }
  (
    umask 077
    pick certificate >"$TLS_CERT.acme" && pick key >"$TLS_KEY.acme" &&
      openssl x509 -noout -in "$TLS_CERT.acme" 2>/dev/null && openssl pkey -noout -in "$TLS_KEY.acme" 2>/dev/null
  ) || { rm -f "$TLS_CERT.acme" "$TLS_KEY.acme"; echo "entrypoint: no usable certificate for $MAIL_HOSTNAME in $ACME_JSON yet" >&2; return 0; }
  install_certificate "$TLS_CERT.acme" "$TLS_KEY.acme"
}

# One run of the ACME client for MAIL_HOSTNAME (dehydrated(1)); the new certificate, if any, is
# written in place of TLS_CERT and TLS_KEY, which the watcher reloads.
acme_client() {
  : "${ACME_EMAIL:?ACME_EMAIL is required with ACME_DIRECTORY}"
  mkdir -p "$ACME_STATE/webroot/.well-known/acme-challenge"
  printf '%s\n' "CA=\"$ACME_DIRECTORY\"" "CONTACT_EMAIL=\"$ACME_EMAIL\"" 'CHALLENGETYPE="http-01"' \
    "WELLKNOWN=\"$ACME_STATE/webroot/.well-known/acme-challenge\"" "BASEDIR=\"$ACME_STATE\"" 'KEY_ALGO="rsa"' \
    >"$ACME_STATE/config"
  if ! dehydrated --config "$ACME_STATE/config" --register --accept-terms >/dev/null ||
    ! dehydrated --config "$ACME_STATE/config" --cron --domain "$MAIL_HOSTNAME"; then
    echo "entrypoint: the ACME client failed for $MAIL_HOSTNAME; trying again in $ACME_EVERY s" >&2
    return 0
  fi
  issued="$ACME_STATE/certs/$MAIL_HOSTNAME"
  (umask 077; cp -L "$issued/privkey.pem" "$TLS_KEY.acme" && cp -L "$issued/fullchain.pem" "$TLS_CERT.acme") &&
    install_certificate "$TLS_CERT.acme" "$TLS_KEY.acme"
}

# The HTTP-01 answers, on the mail host's port 80 (busybox httpd(1), a child of this script).
ACME_HTTP_PID=
acme_http() {
  mkdir -p "$ACME_STATE/webroot/.well-known/acme-challenge"
  busybox httpd -f -p "$ACME_HTTP_PORT" -h "$ACME_STATE/webroot" &
  ACME_HTTP_PID=$!
}

stamp() { stat -c '%i.%.9Y.%s' "$TLS_CERT" "$TLS_KEY" 2>/dev/null | tr -d '\n'; }

start() {
  mkdir -p "$(dirname "$TLS_CERT")" "$(dirname "$TLS_KEY")"
  acme_certificate
  certificate
  render
  maps
  # Postfix's check makes its queue folders, where Dovecot puts the sockets Postfix talks to.
  postfix -c "$POSTFIX_CONF" check
  # The global Sieve script compiled where Dovecot looks for its binary: the delivery, as the mail
  # user, could not write it there (Pigeonhole's sievec(1)).
  sievec -c "$DOVECOT_CONF/dovecot.conf" "$DOVECOT_CONF/sieve/spam-to-junk.sieve"
  # Mail that comes before rspamd is ready, or while it is down, is accepted unscanned
  # (main.cf milter_default_action).
  rspamd_start
  dkim
  opendkim -x "$OPENDKIM_CONF/opendkim.conf"
  srs
  dovecot -c "$DOVECOT_CONF/dovecot.conf"
  postfix -c "$POSTFIX_CONF" start
  trap 'postfix -c "$POSTFIX_CONF" stop; doveadm -c "$DOVECOT_CONF/dovecot.conf" stop; kill "$(cat "$OPENDKIM_RUN/opendkim.pid")" "$(cat "$SRS_PIDFILE")" "$RSPAMD_PID" $ACME_HTTP_PID; wait "$RSPAMD_PID" || true; exit 0' TERM INT
  seen=$(stamp)
  acme_due=0
  if [ -n "$ACME_DIRECTORY" ] && [ -z "$ACME_JSON" ]; then acme_http; fi
  while :; do
    sleep "$WATCH_SECONDS" &
    wait $! || true
    maps
    # A process serving a connection keeps the table it opened, and one already waiting for the
    # next would answer it from the old table once (postconf(5), "lookup table changes"): a reload
    # starts fresh ones at once.
    if [ -n "$REBUILT" ]; then postfix -c "$POSTFIX_CONF" reload; fi
    dkim
    # OpenDKIM reads its configuration and tables again on SIGUSR1 (opendkim(8)).
    if [ -n "$DKIM_CHANGED" ]; then kill -USR1 "$(cat "$OPENDKIM_RUN/opendkim.pid")"; fi
    srs
    if ! kill -0 "$RSPAMD_PID" 2>/dev/null; then
      echo "entrypoint: rspamd stopped: starting it again" >&2
      rspamd_start
    fi
    acme_certificate
    # The ACME client in the background: a slow CA never holds the watcher up.
    if [ -n "$ACME_DIRECTORY" ] && [ -z "$ACME_JSON" ] && [ "$(date +%s)" -ge "$acme_due" ]; then
      acme_due=$(($(date +%s) + ACME_EVERY))
      acme_client &
    fi
    now=$(stamp)
    if [ "$now" != "$seen" ]; then
      # A renewed certificate: both servers read it again.
      seen=$now
      postfix -c "$POSTFIX_CONF" reload
      doveadm -c "$DOVECOT_CONF/dovecot.conf" reload
    fi
  done
}

case "${1:-start}" in
  render) render ;;
  maps) maps ;;
  acme) acme_http; acme_client; kill "$ACME_HTTP_PID" ;;
  start) start ;;
  *) echo "usage: entrypoint.sh [render|maps|acme|start]" >&2; exit 2 ;;
esac
