"""Penalty cases: the discretion suggestion in process, and the consistency analytics over a province's
decided cases.

    .venv/bin/python bench/cases.py --suggest 20000
    .venv/bin/python bench/cases.py --rows 1000000 --sqlite --pg

``--suggest N``: N suggestions over every shipped rule with random facts (the engine as the page and the
API call it); prints p50/p95/p99 in milliseconds. ``--rows N``: a fresh database per engine, ``jianguan
init``, N decided fines written in bulk (10 rules, 3 tiers, 40 agencies in 12 districts, 2 % outside the
suggestion, one agency fining its 一般 cases at the legal maximum), then ``jianguan discretion consistency
--json`` timed as a whole process (wall, peak RSS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_full import JG, sh, throwaway_pg


def suggest(n: int) -> None:
    from jianguan.cases import discretion

    rng = random.Random(7)
    codes = list(discretion.rules())
    facts = discretion.facts()
    on = dt.date(2026, 9, 1)
    times = []
    for _ in range(n):
        code = rng.choice(codes)
        rule = discretion.rule_for(code, on)
        raw: dict[str, object] = {}
        for key in discretion.facts_of(rule):
            fact = facts[key]
            if fact.type == "bool":
                raw[key] = rng.random() < 0.3
            elif fact.type == "choice":
                raw[key] = rng.choice(list(fact.choices))
            elif fact.type == "int":
                raw[key] = rng.randint(0, 3)
            else:
                raw[key] = str(rng.randint(1, 200_000))
        start = time.perf_counter()
        discretion.suggest(code, raw, on=on)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    q = statistics.quantiles(times, n=100)
    print(json.dumps({"suggestions": n, "rules": len(codes), "p50_ms": round(q[49], 3), "p95_ms": round(q[94], 3),
                      "p99_ms": round(q[98], 3), "max_ms": round(times[-1], 3)}))


def setup(env: dict[str, str], rows: int) -> None:
    sh([JG, "init", "--json"], env)
    os.environ.update(env)
    import numpy as np
    import polars as pl

    from jianguan.auth import service as auth
    from jianguan.cases.models import Case
    from jianguan.config import get_settings
    from jianguan.core.bulkload import load_frame
    from jianguan.db import dispose_engines, session_scope, utcnow
    from jianguan.officers import service as agencies

    get_settings.cache_clear()
    dispose_engines()
    rng = np.random.default_rng(11)
    districts = [f"3301{i:02d}" for i in range(1, 13)]
    with session_scope() as db:
        agency_ids = np.array([agencies.create_agency(db, code=f"{districts[i % 12]}-B{i}", name=f"基准第{i}局",
                                                      region_code=districts[i % 12], actor=None).id
                               for i in range(40)])
        regions = np.array([districts[i % 12] for i in range(40)])
        reviewer = auth.create_user(db, username="bench_legal", display_name="基准审核", password="Bench-2026-jg",
                                    roles=["legal_reviewer"], agency_id=int(agency_ids[0]), actor=None).id
        now = utcnow()
        rules = np.array(["SP-122", "SP-124", "SP-126-54", "CP-49", "CP-50", "GG-55", "JG-42", "AQ-97-1",
                          "DQ-99-2", "YS-63-1"])
        tiers = np.array(["lighter", "ordinary", "heavier"])
        pick = rng.integers(0, 40, rows)
        tier = rng.integers(0, 3, rows)
        low, high = 50_000, 100_000
        bottom = np.array([low, low + 15_000, low + 35_000])[tier]
        top = np.array([low + 15_000, low + 35_000, high])[tier]
        fine = bottom + (rng.random(rows) * (top - bottom)).astype(np.int64)
        outside = rng.random(rows) < 0.03
        fine = np.where(outside, np.minimum(high, top + 5_000), fine)
        fine = np.where((pick == 7) & (tier == 1), high, fine)  # one agency fines 一般 cases at the top: 同案不同罚
        cleared = np.where(outside & (rng.random(rows) < 0.33), reviewer, 0)
        decided = [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 330, rows)]
        frame = pl.DataFrame({
            "code": [f"B-AY2026-{i:08d}" for i in range(rows)], "agency_id": agency_ids[pick],
            "region_code": regions[pick], "violation_code": rules[rng.integers(0, len(rules), rows)],
            "tier": tiers[tier], "decision_fine": fine.astype(str), "suggested_low": bottom.astype(str),
            "suggested_high": top.astype(str), "decided_on": decided, "deviation_cleared_by": cleared,
        }).with_columns(
            deviation_cleared_by=pl.when(pl.col("deviation_cleared_by") == 0).then(None)
            .otherwise(pl.col("deviation_cleared_by")),
            legal_low=pl.lit(str(low)), legal_high=pl.lit(str(high)), party_name=pl.lit("基准当事人"),
            party_kind=pl.lit("organisation"), party_address=pl.lit(""), title=pl.lit("基准案件"),
            procedure=pl.lit("general"), source_type=pl.lit("inspection_finding"), source_ref=pl.lit(""),
            facts=pl.lit(""), discovered_on=pl.lit(dt.date(2026, 1, 1)), severe=pl.lit(False),
            lead_on=pl.lit(dt.date(2026, 1, 1)), filing_extended=pl.lit(False), not_filed_reason=pl.lit(""),
            outcome=pl.lit("penalty"), decision_kinds=pl.lit('["3"]'), workflow=pl.lit("case"),
            state=pl.lit("closed"), state_since=pl.lit(now), due_unconfirmed=pl.lit(False),
            escalation_level=pl.lit(0), created_at=pl.lit(now), updated_at=pl.lit(now), version=pl.lit(1))
        defaults = {c.name: c.default.arg for c in Case.__table__.columns
                    if c.name not in frame.columns and c.default is not None and not callable(c.default.arg)}
        frame = frame.with_columns(**{k: pl.lit(json.dumps(v) if isinstance(v, (list, dict)) else v)
                                      for k, v in defaults.items()})
        load_frame(db, Case.__table__, frame)
    print(json.dumps({"decided_cases": rows}))


def bench(label: str, env: dict[str, str], rows: int) -> None:
    setup(env, rows)
    wall, rss, out = sh([JG, "discretion", "consistency", "--json"], env, timed=True)
    got = json.loads(out)
    print(json.dumps({"db": label, "consistency_s": round(wall, 1), "peak_rss_mib": round(rss),
                      "decided": got["decided"], "outside_pct": got["outside_pct"], "flags": len(got["flags"])}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suggest", type=int, default=0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--port", type=int, default=55496)
    args = parser.parse_args()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{memory:.0f} GiB, Python {platform.python_version()}")
    if args.suggest:
        suggest(args.suggest)
    if args.sqlite:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-cases-"))
        env = {**os.environ, "JIANGUAN_HOME": str(home)}
        env.pop("JIANGUAN_DATABASE_URL", None)
        try:
            bench("SQLite", env, args.rows)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    if args.pg:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-pghome-"))
        with throwaway_pg(args.port) as url:
            try:
                bench("PostgreSQL", {**os.environ, "JIANGUAN_HOME": str(home), "JIANGUAN_DATABASE_URL": url}, args.rows)
            finally:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
