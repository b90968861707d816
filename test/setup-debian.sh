#!/bin/sh
# Installs the Debian packages of the tools the tests run (test/debian-tools.txt, one
# "<tool> <package>" a line). When every tool is already there it says so and runs nothing, so it
# needs no root and no network; otherwise apt-get update then apt-get install of the missing
# packages only, as root or through sudo. Exit 1, with one line saying why, when it cannot.
set -eu

here=$(dirname "$0")
list="$here/debian-tools.txt"
[ -r "$list" ] || { echo "setup-debian: cannot read $list" >&2; exit 1; }

# A tool is found in PATH or in the sbin folders a Debian user's PATH leaves out (postmap is in
# /usr/sbin); test/helpers/debian-tools.ts looks in the same places.
found() {
  command -v "$1" >/dev/null 2>&1 && return 0
  for d in /usr/local/sbin /usr/sbin /sbin; do
    [ -f "$d/$1" ] && [ -x "$d/$1" ] && return 0
  done
  return 1
}

# Prints "<tool> <package>" for every tool of the list not found.
missing() {
  set -f
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    # shellcheck disable=SC2086 # split the line into its fields
    set -- $line
    [ $# -eq 0 ] && continue
    if [ $# -ne 2 ]; then
      echo "setup-debian: $list: want \"<tool> <package>\", got: $line" >&2
      exit 1
    fi
    found "$1" || echo "$1 $2"
  done <"$list"
  set +f
}

todo=$(missing)
if [ -z "$todo" ]; then
  echo "setup-debian: every tool the tests use is present, nothing to install"
  exit 0
fi

# "postmap (postfix), jq (jq)" from lines "<tool> <package>".
named() {
  out=$(printf '%s\n' "$1" | while read -r t p; do printf '%s (%s), ' "$t" "$p"; done)
  printf '%s' "${out%, }"
}

packages=$(printf '%s\n' "$todo" | while read -r t p; do echo "$p"; done | sort -u | tr '\n' ' ')
packages=${packages% }
echo "setup-debian: missing $(named "$todo"): installing $packages"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-debian: cannot install, no apt-get (not Debian?): install $packages by other means" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=
elif command -v sudo >/dev/null 2>&1; then
  as_root=sudo
else
  echo "setup-debian: cannot install, not root and no sudo: as root run apt-get install $packages" >&2
  exit 1
fi

# shellcheck disable=SC2086 # as_root is empty or sudo, packages a list
if ! $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
  || ! $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages; then
  echo "setup-debian: cannot install, apt-get failed: apt-get install $packages" >&2
  exit 1
fi

still=$(missing)
if [ -n "$still" ]; then
  echo "setup-debian: still missing after apt-get install: $(named "$still")" >&2
  exit 1
fi
echo "setup-debian: installed $packages"
