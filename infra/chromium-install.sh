#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test (dashboard-api/e2e), driven there by
# playwright-core with executablePath /usr/bin/chromium: no browser download of its own, the
# distribution package is the only source. Idempotent and quiet: prints nothing when Chromium is
# already there or the install succeeds, and apt's output only when it fails.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log="$(mktemp -t chromium-install.XXXXXX)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "chromium-install: apt-get could not install chromium" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium-install: the chromium package did not provide /usr/bin/chromium" >&2
  exit 1
fi
