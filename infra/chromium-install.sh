#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the dashboard's browser test
# (dashboard-api/e2e). Idempotent and quiet: does nothing when /usr/bin/chromium is there.
# No browser download of its own: the distribution package is the only source.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
