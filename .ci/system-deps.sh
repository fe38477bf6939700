#!/usr/bin/env bash
# Best effort: install the Debian packages some tests need (Chromium for the audit-report browser test).
# Never fails the build: a test whose tool is missing skips itself and prints why.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not root or no apt-get; tests needing ${need[*]} will be skipped"
  exit 0
fi
echo "system-deps: installing ${need[*]} (Debian packages) for the browser test"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; }; then
  echo "system-deps: could not install ${need[*]}; tests needing them will be skipped"
fi
exit 0
