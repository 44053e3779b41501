"""Complaints: intake (entity match + routing + numbering, in process) and the duplicate suggestion for
a new complaint, against a province's stored complaints.

    .venv/bin/python bench/complaints.py --rows 1000000 --sqlite --pg

For each database: a fresh one, ``jianguan init``, 200,000 entities in one county, ``--rows`` complaints
over the last year written in bulk by collab/synth.py, the demo's writer (encrypted content; 30 % about a
registered entity; places around the city), then in this process: 200 new complaints received through the
service (p50/p95 ms; the first, which loads the county's names, reported apart; each also notifies the
bureau's three dispatchers in the app and by e-mail through the outbox) and their duplicate suggestions
(p50/p95 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_full import JG, sh, throwaway_pg

# Brand names from 600 common characters (real names draw on thousands; a small alphabet would make
# every character common and the benchmark harder than life).
WORDS = [chr(c) for c in range(0x4E00, 0x9FA5, 35)][:600]
TRADES = ["餐饮", "快餐", "面馆", "超市", "便利店", "烘焙", "茶饮", "药房", "五金", "服饰"]
TEXTS = ["在该店买的酸奶已经过期三天，店员拒绝退换。", "停车场收费未明码标价，多收费用二十元。",
         "饭店后厨卫生脏乱，有老鼠出没。", "超市销售的鸡蛋标注生产日期与实际不符。",
         "理发店办卡后关门跑路，余额无法退还。"]


def setup(env: dict[str, str], rows: int) -> None:
    sh([JG, "init", "--json"], env)
    os.environ.update(env)
    import numpy as np
    import polars as pl
    from sqlalchemy import insert, select

    from jianguan.auth import service as auth
    from jianguan.collab import synth
    from jianguan.config import get_settings
    from jianguan.db import dispose_engines, session_scope, utcnow
    from jianguan.entities.models import Entity
    from jianguan.officers import service as agencies

    get_settings.cache_clear()
    dispose_engines()
    rng = np.random.default_rng(5)
    with session_scope() as db:
        bureau = agencies.create_agency(db, code="330106-SJ", name="杭州市西湖区市场监督管理局",
                                        region_code="330106", actor=None)
        for i, role in enumerate(("leader", "leader", "agency_admin")):  # told of each new complaint
            user = auth.create_user(db, username=f"dispatch{i}", display_name=f"分派{i}", password="Bench-2026-pass1",
                                    roles=[role], agency_id=bureau.id, actor=None)
            user.email = f"dispatch{i}@example.gov.cn"  # so each intake also writes e-mail outbox rows
        names = [f"杭州{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司{i}"
                 for i in range(200_000)]
        db.execute(insert(Entity), [{"uscc": f"91330106C{i:09d}", "name": n, "kind": "enterprise", "status": "active",
                                     "region_code": "330106"} for i, n in enumerate(names)])
        entity_ids = np.array(list(db.scalars(select(Entity.id))))
        now = utcnow()
        days = rng.integers(0, 365, rows)
        received = [dt.date(2026, 12, 7) - dt.timedelta(days=int(d)) for d in days]
        about = rng.random(rows) < 0.3
        text = np.array(TEXTS)[rng.integers(0, len(TEXTS), rows)]
        phones = [f"138{int(p):08d}" for p in rng.integers(0, 10**8, rows)]
        columns = pl.DataFrame({
            "number": [f"TB{i:014d}" for i in range(rows)], "access_hash": ["0" * 64] * rows,
            "received_on": received,
            "entity_id": np.where(about, entity_ids[rng.integers(0, len(entity_ids), rows)], 0),
            "category": np.array(["food_safety", "price", "consumer_rights", "advertising"])[rng.integers(0, 4, rows)],
            "latitude": 30.20 + rng.random(rows) * 0.15, "longitude": 120.05 + rng.random(rows) * 0.2,
            "content": text, "complainant_phone": phones,
        }).with_columns(pl.when(pl.col("entity_id") == 0).then(None).otherwise(pl.col("entity_id")).alias("entity_id"),
                        region_code=pl.lit("330106"), routed_by=pl.lit("market"))
        synth.write(db, synth.frame(columns, now=now))
    print(json.dumps({"entities": 200_000, "complaints": rows}))


def measure(label: str) -> None:
    import random

    from sqlalchemy import select

    from jianguan.collab import service
    from jianguan.collab.schemas import ComplaintIn
    from jianguan.db import session_scope
    from jianguan.entities.models import Entity
    from jianguan.reference import service as ref

    with session_scope() as db:
        ref.load_all(db)
    rng = random.Random(9)
    intake, dups, first = [], [], 0.0
    with session_scope() as db:
        sample = [n for (n,) in db.execute(select(Entity.name).limit(2000))]
        service.today_shanghai = lambda: dt.date(2026, 12, 7)  # type: ignore[assignment]
        for i in range(201):
            data = ComplaintIn(category="food_safety", content=rng.choice(TEXTS), region_code="330106",
                               party_name=rng.choice(sample).replace("杭州", "").split("有限公司")[0],
                               name="陈女士", phone=f"1390000{i:04d}", latitude=30.2 + rng.random() * 0.15,
                               longitude=120.05 + rng.random() * 0.2)
            start = time.perf_counter()
            complaint, _code = service.receive(db, data=data, channel="web")
            took = (time.perf_counter() - start) * 1000
            if i == 0:
                first = took
            else:
                intake.append(took)
            start = time.perf_counter()
            service.duplicates_of(db, complaint)
            dups.append((time.perf_counter() - start) * 1000)
        db.rollback()

    def q(values: list[float], n: int) -> float:
        return round(statistics.quantiles(values, n=100)[n - 1], 1)

    print(json.dumps({"db": label, "intake_first_ms": round(first, 1), "intake_p50_ms": q(intake, 50),
                      "intake_p95_ms": q(intake, 95), "duplicates_p50_ms": q(dups, 50),
                      "duplicates_p95_ms": q(dups, 95)}))


def run(label: str, env: dict[str, str], rows: int) -> None:
    setup(env, rows)
    measure(label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--port", type=int, default=55497)
    args = parser.parse_args()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{memory:.0f} GiB, Python {platform.python_version()}")
    if args.sqlite:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-complaints-"))
        env = {**os.environ, "JIANGUAN_HOME": str(home)}
        env.pop("JIANGUAN_DATABASE_URL", None)
        try:
            run("SQLite", env, args.rows)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    if args.pg:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-pghome-"))
        with throwaway_pg(args.port) as url:
            try:
                run("PostgreSQL", {**os.environ, "JIANGUAN_HOME": str(home), "JIANGUAN_DATABASE_URL": url}, args.rows)
            finally:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
