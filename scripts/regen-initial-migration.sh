#!/usr/bin/env bash
# Before the first release only: rebuild the single initial migration from the models.
# After a release, add revisions with `uv run alembic revision --autogenerate -m "…"` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_0001_initial.py
JIANGUAN_DATABASE_URL="sqlite:///$tmp/empty.db" uv run --frozen alembic revision --autogenerate \
  --rev-id 0001 -m initial >/dev/null
rm -rf "$tmp"
uv run --frozen ruff format -q migrations/versions
uv run --frozen ruff check -q --fix migrations/versions || true
ls migrations/versions
