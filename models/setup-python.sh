#!/usr/bin/env bash
# Creates models/.venv (gitignored) and installs the pinned training stack from PyPI.
# Idempotent: a venv whose installed requirements match requirements.txt is left alone.
# CI calls this before the parity and card tests; it works from scratch on a machine with
# python3 (3.11+) and the venv module.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "models/.venv is up to date"
  exit 0
fi

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "$want" > "$stamp"
echo "models/.venv ready: $("$venv/bin/python" --version)"
