#!/usr/bin/env bash
# Cold `make demo` on a fresh clone: environment, assets, migrations, demo data, up to serving.
# Run from the repository: bench/cold_demo.sh. Prints wall seconds until /api/v1/health answers.
# COLD_CACHES=1 also empties the uv and npm download caches (everything fetched from the registries).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/jg-cold.XXXXXX)
git clone -q "$src" "$work/jianguan"
cd "$work/jianguan"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "${COLD_CACHES:-0}" = 1 ]; then export UV_CACHE_DIR="$work/uv-cache" npm_config_cache="$work/npm-cache"; fi
start=$(date +%s.%N)
JIANGUAN_PORT=$port JIANGUAN_BASE_URL="http://127.0.0.1:$port" setsid make demo >"$work/demo.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; do
  sleep 0.2
  kill -0 $pid 2>/dev/null || { cat "$work/demo.log"; exit 1; }
done
end=$(date +%s.%N)
kill -- -$pid 2>/dev/null || true; sleep 1
python3 -c "print(f'cold make demo to first healthy response: {$end - $start:.1f} s')"
rm -rf "$work"
