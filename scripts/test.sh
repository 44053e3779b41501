#!/usr/bin/env bash
# `make test`: install what the tests need, lint, type-check, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
scripts/setup.sh
scripts/ensure-browser.sh
UV="python3 -m uv"

echo "» ruff"
$UV run --frozen ruff check src tests migrations bench
echo "» mypy (strict on src/)"
$UV run --frozen mypy

echo "» pytest on SQLite"
$UV run --frozen pytest "$@"

echo "» pytest on PostgreSQL"
pgdir=$(mktemp -d /tmp/jianguan-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'scripts/pg-cluster.sh stop "$pgdir"' EXIT
url=$(scripts/pg-cluster.sh start "$pgdir" "$port")
JIANGUAN_TEST_PG_URL="$url" $UV run --frozen pytest "$@"
