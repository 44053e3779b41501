#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests: `start DIR PORT` / `stop DIR`.
# initdb and pg_ctl refuse to run as root, so they run as the postgres user.
# Tests run with fsync off (throwaway data); PG_DURABLE=1 keeps the defaults (benchmarks).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data dir}; port=${3:-55432}

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local found; found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$found" ] && { echo "$found"; return; }
  return 1
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    if ! find_bin initdb >/dev/null; then
      echo "PostgreSQL server not found; installing it (apt-get install postgresql)…" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl)
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && fast="-c max_wal_size=4GB -c shared_buffers=2GB -c work_mem=64MB"
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$INITDB" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir $fast -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    PG_CTL=$(find_bin pg_ctl)
    as_pg "$PG_CTL" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
