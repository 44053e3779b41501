#!/usr/bin/env bash
# Before the first release only: rebuild the single initial migration from the models.
# After a release, add revisions with `uv run alembic revision --autogenerate -m "…"` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_0001_initial.py
# Later hand-written revisions (0002 …) step aside while 0001 is rebuilt from an empty database.
later=$(ls migrations/versions/*.py 2>/dev/null || true)
[ -n "$later" ] && mv $later "$tmp/"
JIANGUAN_DATABASE_URL="sqlite:///$tmp/empty.db" python3 -m uv run --frozen alembic revision --autogenerate \
  --rev-id 0001 -m initial >/dev/null
for f in $later; do mv "$tmp/$(basename "$f")" migrations/versions/; done
rm -rf "$tmp"
python3 -m uv run --frozen ruff format -q migrations/versions
python3 -m uv run --frozen ruff check -q --fix migrations/versions || true
ls migrations/versions
