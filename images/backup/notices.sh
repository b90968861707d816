#!/bin/sh
# Sends each tenant's notices (docs/services/notices.md), once each: its membership's, from 30 days
# before its paid-until date, and a volume's, when it passes 90 % of its quota (again only after it
# has fallen below 80 %). Runs daily on the monitoring host.
#
# Reads every $NOTICES_DIR/<slug>.notice (written by infra/model/tenant-notices.ts: key=value
# lines, read with `read`, never evaluated), and keeps what it has sent in $STATE_DIR/<slug>/.
#
# Environment:
#   NOTICES_DIR     the fragments (default /srv/alacarte/notices)
#   STATE_DIR       what has been sent (default /var/lib/alacarte/notices)
#   PROMETHEUS_URL  Prometheus, e.g. http://prometheus:9090
#   SMTP_URL        smtp://host:587 (with SMTP_STARTTLS=true) or smtps://host:465
#   SMTP_STARTTLS   true: STARTTLS is required (curl --ssl-reqd)
#   SMTP_USERNAME, SMTP_PASSWORD  the SMTP login; the password never reaches a process's arguments
#   NOTICES_TODAY   YYYY-MM-DD instead of today (UTC), for tests
#
# Exit status: 0 when everything due was sent; 1 when a send failed, Prometheus could not be read
# or a fragment was refused (what failed is tried again next run). Logs name slugs and counts,
# never an address or the password.
set -u
export LC_ALL=C

NOTICES_DIR=${NOTICES_DIR:-/srv/alacarte/notices}
STATE_DIR=${STATE_DIR:-/var/lib/alacarte/notices}
PROMETHEUS_URL=${PROMETHEUS_URL:-}
SMTP_URL=${SMTP_URL:-}
SMTP_STARTTLS=${SMTP_STARTTLS:-false}
SMTP_USERNAME=${SMTP_USERNAME:-}
SMTP_PASSWORD=${SMTP_PASSWORD:-}

# Days before paid-until from which the membership notice is due; quota ratios that send and re-arm.
MEMBERSHIP_DAYS=30
QUOTA_SEND=0.9
QUOTA_REARM=0.8

status=0
sent=0
failed=0
tenants=0
prometheus_ok=1

log() { printf 'notices: %s\n' "$*"; }
err() { printf 'notices: %s\n' "$*" >&2; }

die() {
  err "$*"
  exit 1
}

# The checks of infra/contract/names.ts, again: the shell trusts no file.
is_slug() {
  case $1 in
    '' | -* | *- | *--* | *[!a-z0-9-]*) return 1 ;;
  esac
  [ "${#1}" -le 40 ]
}
is_volume() {
  case $1 in
    '' | -* | *[!a-z0-9-]*) return 1 ;;
  esac
  [ "${#1}" -le 63 ]
}
is_email() {
  case $1 in
    *@*@* | @* | *@ | *[!a-z0-9._%+@-]*) return 1 ;;
    *@*.*) return 0 ;;
  esac
  return 1
}
is_date() {
  case $1 in
    [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]) date -u -d "$1" +%s >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
is_base64() {
  case $1 in
    '' | *[!A-Za-z0-9+/=]*) return 1 ;;
  esac
}

case $SMTP_URL in
  smtp://* | smtps://*) ;;
  *) die "SMTP_URL must start with smtp:// or smtps://" ;;
esac
case $SMTP_URL in
  *[!A-Za-z0-9.:/_-]*) die "SMTP_URL holds a character other than a-z 0-9 . : / _ -" ;;
esac
# The URL's path is the name curl gives in EHLO (https://curl.se/docs/manpage.html, --url); without
# one it would send the uploaded file's name.
case $SMTP_URL in
  *://*/*) ;;
  *)
    helo=$(uname -n)
    case $helo in '' | *[!A-Za-z0-9.-]*) helo=localhost ;; esac
    SMTP_URL="$SMTP_URL/$helo"
    ;;
esac
case $SMTP_STARTTLS in
  true | false) ;;
  *) die "SMTP_STARTTLS must be true or false" ;;
esac
case $SMTP_USERNAME in
  *[!A-Za-z0-9._%+@-]*) die "SMTP_USERNAME holds a character curl's config cannot carry unquoted" ;;
esac
# curl's config takes a quoted value on one line (https://curl.se/docs/manpage.html, -K).
case $SMTP_PASSWORD in
  *'
'*) die "SMTP_PASSWORD holds a line break" ;;
esac
if [ -n "${NOTICES_TODAY:-}" ]; then
  is_date "$NOTICES_TODAY" || die "NOTICES_TODAY must be a date written YYYY-MM-DD"
  today=$NOTICES_TODAY
else
  today=$(date -u +%Y-%m-%d)
fi
today_s=$(date -u -d "$today" +%s)

work=$(mktemp -d) || die "cannot make a temporary folder"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

# The password inside double quotes in curl's config, \ and " escaped (https://curl.se/docs/manpage.html, -K).
password_quoted=$(printf '%s' "$SMTP_PASSWORD" | sed 's/[\\"]/\\&/g')

# send_mail <message file> <from> <to>: sends through curl, its settings on stdin (-K -), so that
# neither the password nor the addresses appear in its arguments. Quiet on success; on failure
# curl's own line goes to stderr (it names the server's reply, never the password).
send_mail() {
  {
    printf 'url = "%s"\n' "$SMTP_URL"
    printf 'mail-from = "%s"\n' "$2"
    printf 'mail-rcpt = "%s"\n' "$3"
    printf 'upload-file = "%s"\n' "$1"
    # --sasl-ir: the credentials in the AUTH command itself (RFC 4954 §4), one round trip less.
    if [ -n "$SMTP_USERNAME" ]; then printf 'user = "%s:%s"\nsasl-ir\n' "$SMTP_USERNAME" "$password_quoted"; fi
    if [ "$SMTP_STARTTLS" = true ]; then printf 'ssl-reqd\n'; fi
  } | curl --silent --show-error --connect-timeout 20 --max-time 120 -K - 2>"$work/curl.err"
  rc=$?
  if [ "$rc" -ne 0 ]; then err "$(head -n 1 "$work/curl.err")"; fi
  return "$rc"
}

seq_no=0
# render <base64 template> <kind> [volume percent]: the message, placeholders filled with checked
# values only (a date from date(1), a-z 0-9 . - and digits), into $work/message.
render() {
  seq_no=$((seq_no + 1))
  now=$(date -u -R)
  id="notice.$2.$slug.$(date -u +%Y%m%dt%H%M%Sz).$$.$seq_no"
  printf '%s' "$1" | base64 -d >"$work/template" 2>/dev/null || return 1
  sed -e "s/{{DATE}}/$now/g" -e "s/{{MESSAGE_ID}}/$id/g" -e "s/{{VOLUME}}/${3:-}/g" -e "s/{{PERCENT}}/${4:-}/g" \
    "$work/template" >"$work/message"
}

# notify <kind> <state file> <base64 template> [volume percent]: sends, then writes the state; a
# failed send writes nothing, so it is tried again next run.
notify() {
  if ! render "$3" "$1" "${4:-}" "${5:-}"; then
    err "$slug: $1 notice: the message does not decode"
    failed=$((failed + 1))
    status=1
    return
  fi
  if send_mail "$work/message" "$from" "$contact"; then
    sent=$((sent + 1))
    # What was sent, and when: the file's presence is the state, its line is for ops.
    if ! { mkdir -p "$STATE_DIR/$slug" && date -u +%Y-%m-%dT%H:%M:%SZ >"$2"; }; then
      err "$slug: $1 notice sent but its state not written"
      status=1
    fi
    log "$slug: $1 notice sent${4:+ ($4, $5 %)}"
  else
    err "$slug: $1 notice not sent${4:+ ($4)}; tried again next run"
    failed=$((failed + 1))
    status=1
  fi
}

# read_fragment <file>: sets format slug contact from paid_until membership_message quota_message.
read_fragment() {
  format='' slug='' contact='' from='' paid_until='' membership_message='' quota_message=''
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      '' | '#'*) continue ;;
      *=*) ;;
      *) return 1 ;;
    esac
    value=${line#*=}
    case ${line%%=*} in
      format) format=$value ;;
      slug) slug=$value ;;
      contact) contact=$value ;;
      from) from=$value ;;
      paid_until) paid_until=$value ;;
      membership_message) membership_message=$value ;;
      quota_message) quota_message=$value ;;
      *) ;; # a newer field this script does not use
    esac
  done <"$1"
  [ "$format" = 1 ] && is_slug "$slug" && is_email "$contact" && is_email "$from" && is_base64 "$quota_message" || return 1
  if [ -n "$paid_until" ]; then is_date "$paid_until" && is_base64 "$membership_message" || return 1; fi
}

membership() {
  [ -n "$paid_until" ] || return 0
  state="$STATE_DIR/$slug/paid-until-$paid_until"
  [ -e "$state" ] && return 0
  due_s=$(($(date -u -d "$paid_until" +%s) - MEMBERSHIP_DAYS * 86400))
  [ "$today_s" -ge "$due_s" ] || return 0
  notify membership "$state" "$membership_message"
}

# The used share of each volume of the tenant, from Prometheus's instant query API
# (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries): a vector whose
# samples are [<time>, "<value>"], the value a string ("NaN" and "+Inf" when a quota is 0).
# Prints "<volume> <percent> <high|low|mid>" a line, the percent floored (1e-9 for binary
# fractions: 0.29 * 100 is 28.999…); fails when Prometheus cannot answer.
ratios() {
  query="alacarte_volume_used_bytes{set=\"$slug\"} / alacarte_volume_quota_bytes{set=\"$slug\"}"
  curl --silent --show-error --fail --connect-timeout 10 --max-time 60 \
    --get --data-urlencode "query=$query" "$PROMETHEUS_URL/api/v1/query" >"$work/prometheus.json" 2>"$work/curl.err" || {
    err "Prometheus: $(head -n 1 "$work/curl.err")"
    return 1
  }
  jq -r --argjson send "$QUOTA_SEND" --argjson rearm "$QUOTA_REARM" '
    if .status != "success" or .data.resultType != "vector" then error("not a successful vector")
    else .data.result[]
      | select((.metric.volume | type) == "string" and (.value[1] | test("^[0-9]+(\\.[0-9]+)?$")))
      | (.value[1] | tonumber) as $r
      | "\(.metric.volume) \($r * 100 + 1e-9 | floor) \(if $r >= $send then "high" elif $r < $rearm then "low" else "mid" end)"
    end' "$work/prometheus.json" 2>"$work/jq.err" || {
    err "Prometheus: the answer is not a successful vector: $(head -n 1 "$work/jq.err")"
    return 1
  }
}

quota() {
  [ "$prometheus_ok" = 1 ] || return 0
  if [ -z "$PROMETHEUS_URL" ] || ! ratios >"$work/ratios"; then
    [ -n "$PROMETHEUS_URL" ] || err "PROMETHEUS_URL is not set"
    err "Prometheus cannot be read: quota notices skipped this run"
    prometheus_ok=0
    status=1
    return 0
  fi
  while read -r volume percent level; do
    if ! is_volume "$volume"; then
      err "$slug: a volume name other than a-z 0-9 - skipped"
      continue
    fi
    state="$STATE_DIR/$slug/quota-$volume"
    case $level in
      high) [ -e "$state" ] || notify quota "$state" "$quota_message" "$volume" "$percent" ;;
      low) rm -f "$state" ;;
      *) ;; # between 80 and 90 %: a notice sent stays sent
    esac
  done <"$work/ratios"
}

for file in "$NOTICES_DIR"/*.notice; do
  [ -f "$file" ] || continue
  name=${file##*/}
  if ! read_fragment "$file" || [ "$name" != "$slug.notice" ]; then
    if is_slug "${name%.notice}"; then err "${name%.notice}: fragment refused"; else err "a fragment with a bad name refused"; fi
    status=1
    continue
  fi
  tenants=$((tenants + 1))
  membership
  quota
done

log "$tenants tenants, $sent notices sent, $failed failed"
exit "$status"
