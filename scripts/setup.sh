#!/usr/bin/env bash
# Create the environment from the lock file and build the front-end assets. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "» installing uv (pinned) with pip…"
  python3 -m pip install -q "uv==0.13.8" 2>/dev/null || python3 -m pip install -q --user "uv==0.13.8"
fi
scripts/system-deps.sh
python3 -m uv sync --frozen -q
scripts/build-assets.sh
