"""Full entity import (check + write) into PostgreSQL (COPY) and SQLite, and entity search p95.

    .venv/bin/python bench/import_full.py --rows 5000000 --pg --sqlite --search

For each database: a fresh one (PostgreSQL: a throwaway cluster with durable defaults, fsync on),
`jianguan init`, a system-admin account, then `jianguan import entities FILE --json` timed as a whole
process under /usr/bin/time (wall seconds, peak RSS), then the same file again (every row an
unchanged update). With --search, entity search on the loaded registry: name substring, USCC,
county and city filters, first page of 25 with the total count, p50/p95 over 40 queries each.
Files are generated once with `jianguan demo generate` and cached under --cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JG = str(ROOT / ".venv" / "bin" / "jianguan")
PASSWORD = "Jiance-2026-jg"


def sh(cmd: list[str], env: dict[str, str], timed: bool = False) -> tuple[float, float, str]:
    """Run; → (wall seconds, peak RSS MiB, stdout)."""
    full = ["/usr/bin/time", "-v", *cmd] if timed else cmd
    start = time.perf_counter()
    done = subprocess.run(full, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, (int(rss.group(1)) / 1024 if rss else 0.0), done.stdout


@contextmanager
def throwaway_pg(port: int) -> Iterator[str]:
    """A PostgreSQL cluster with durable settings on loopback for one run: → its URL; removed after."""
    cluster = Path(tempfile.mkdtemp(prefix="jg-bench-pg-"))
    url = subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(cluster), str(port)],
                         env={**os.environ, "PG_DURABLE": "1"}, capture_output=True, text=True,
                         check=True).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(cluster)], check=False)


def generate(rows: int, cache: Path) -> Path:
    path = cache / f"entities-{rows}.csv"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"partial-{path.name}")  # renamed when complete: an interrupted run leaves no cache
        wall, _, _ = sh([JG, "demo", "generate", "--entities", str(rows), "--seed", "7", "--out", str(partial),
                         "--json"], dict(os.environ))
        partial.replace(path)
        print(f"generated {rows:,} rows in {wall:.1f} s → {path} ({path.stat().st_size / 2**20:.0f} MiB)")
    return path


def prepare(env: dict[str, str]) -> None:
    sh([JG, "init", "--json"], env)
    sh([JG, "users", "create", "bench", "--name", "基准测试", "--role", "system_admin", "--scope", "all",
        "--password", PASSWORD, "--json"], env)


def run_import(label: str, file: Path, env: dict[str, str], again: bool = True) -> dict[str, object]:
    cmd = [JG, "import", "entities", str(file), "--json", "--user", "bench"]
    wall, rss, out = sh(cmd, env, timed=True)
    first = json.loads(out)
    result: dict[str, object] = {"db": label, "rows": first["total"], "created": first["created"],
                                 "import_s": round(wall, 1), "rows_per_s": round(first["total"] / wall),
                                 "peak_rss_mib": round(rss)}
    if again:
        wall2, rss2, out2 = sh(cmd, env, timed=True)
        result.update(reimport_s=round(wall2, 1), reimport_created=json.loads(out2)["created"],
                      reimport_peak_rss_mib=round(rss2))
    print(json.dumps(result, ensure_ascii=False))
    return result


def search_p95(env: dict[str, str]) -> dict[str, object]:
    os.environ.update(env)
    from sqlalchemy import func, select

    from jianguan.auth.models import User
    from jianguan.db import session_scope
    from jianguan.entities import search
    from jianguan.entities.models import Entity

    rng = random.Random(7)
    out: dict[str, object] = {}
    with session_scope() as db:
        actor = db.scalars(select(User).where(User.username == "bench")).one()
        top = db.scalar(select(func.max(Entity.id))) or 1
        sample = [db.get(Entity, rng.randint(1, top)) for _ in range(200)]
        picks = [e for e in sample if e is not None]
        names = [e.name[2:5] for e in picks]  # a three-character fragment inside the name
        usccs = [e.uscc for e in picks if e.uscc]
        regions = sorted({e.region_code for e in picks})
        cases = {"name substring": [{"q": n} for n in names[:40]],
                 "USCC": [{"q": u} for u in usccs[:40]],
                 "region": [{"region_code": rng.choice(regions)} for _ in range(40)],
                 "city": [{"region_code": rng.choice(regions)[:4] + "00"} for _ in range(40)]}
        for label, queries in cases.items():
            times = []
            for query in queries:
                start = time.perf_counter()
                search.search_entities(db, actor=actor, limit=25, **query)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            out[label] = {"p50_ms": round(statistics.median(times), 1),
                          "p95_ms": round(times[int(len(times) * 0.95) - 1], 1), "queries": len(times)}
    print(json.dumps({"search": out}, ensure_ascii=False))
    return out


def database_mib(env: dict[str, str]) -> float:
    """Size of the loaded database (PostgreSQL: the whole database; SQLite: its files)."""
    url = env.get("JIANGUAN_DATABASE_URL")
    if url:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as connection:
            size = connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        engine.dispose()
        return round(size / 2**20)
    home = Path(env["JIANGUAN_HOME"])
    return round(sum(p.stat().st_size for p in home.rglob("*.db*")) / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--search", action="store_true", help="search p95 on the PostgreSQL registry")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "jianguan-bench")
    parser.add_argument("--port", type=int, default=55491)
    parser.add_argument("--no-reimport", action="store_true", help="skip the second, unchanged import")
    args = parser.parse_args()
    file = generate(args.rows, args.cache)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{memory:.0f} GiB, Python {platform.python_version()}")
    if args.sqlite:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-sqlite-"))
        env = {**os.environ, "JIANGUAN_HOME": str(home)}
        env.pop("JIANGUAN_DATABASE_URL", None)
        prepare(env)
        run_import("SQLite", file, env, not args.no_reimport)
        print(json.dumps({"SQLite database MiB": database_mib(env)}))
        shutil.rmtree(home, ignore_errors=True)
    if args.pg:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-pghome-"))
        with throwaway_pg(args.port) as url:
            env = {**os.environ, "JIANGUAN_HOME": str(home), "JIANGUAN_DATABASE_URL": url}
            try:
                prepare(env)
                run_import("PostgreSQL", file, env, not args.no_reimport)
                print(json.dumps({"PostgreSQL database MiB": database_mib(env)}))
                if args.search:
                    search_p95(env)
            finally:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
