"""The burden index over a province's year: 1,000,000 inspections visited in 2026 (60 % on site,
5 % of those joint, 40 % by documents, online or video) at 200,000 entities by 6 agencies, 200,000
inspection notices with their lists of materials, and 20,000 督查 visits to 2,000 government units.

    .venv/bin/python bench/burden.py --rows 1000000 --sqlite --pg

For each database: a fresh one, ``jianguan init``, the rows written in bulk, then
``jianguan inspection burden --year 2026 --json`` timed as a whole process (wall seconds, peak RSS):
the per-object figures in Polars and the overlapping-visit check around today.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_full import JG, sh, throwaway_pg


def setup(env: dict[str, str], rows: int) -> None:
    sh([JG, "init", "--json"], env)
    os.environ.update(env)
    import numpy as np
    import polars as pl
    from sqlalchemy import insert, select

    from jianguan.config import get_settings
    from jianguan.core.bulkload import load_frame
    from jianguan.db import dispose_engines, session_scope, utcnow
    from jianguan.documents.models import Document
    from jianguan.entities.models import Entity
    from jianguan.inspections.models import Inspection, MatterVisit, SupervisionMatter
    from jianguan.officers import service as agencies

    get_settings.cache_clear()
    dispose_engines()
    rng = np.random.default_rng(11)
    n_entities, n_units = 200_000, 2_000
    with session_scope() as db:
        agency_ids = [agencies.create_agency(db, code=f"330106-A{i}", name=f"西湖区第{i}局", region_code="330106",
                                             actor=None).id for i in range(6)]
        db.execute(insert(Entity), [{"uscc": f"91330106B{i:09d}", "name": f"基准主体{i}", "kind": "enterprise",
                                     "status": "active", "region_code": "330106"} for i in range(n_entities)])
        db.execute(insert(Entity), [{"uscc": f"11330106G{i:09d}", "name": f"基层单位{i}", "kind": "government_unit",
                                     "status": "active", "region_code": "330106"} for i in range(n_units)])
        entities = np.array(list(db.scalars(select(Entity.id).where(Entity.kind == "enterprise"))))
        units = np.array(list(db.scalars(select(Entity.id).where(Entity.kind == "government_unit"))))
        now = utcnow()
        start = dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)
        minutes = rng.integers(0, 364 * 24 * 60, rows)
        started = [start + dt.timedelta(minutes=int(m)) for m in minutes]
        hours = rng.uniform(0.5, 4, rows)
        methods = rng.choice(["on_site", "documents", "online", "remote_video"], rows, p=[0.6, 0.2, 0.1, 0.1])
        frame = pl.DataFrame({
            "code": [f"B-{i:08d}" for i in range(rows)],
            "entity_id": entities[rng.integers(0, len(entities), rows)],
            "agency_id": np.array(agency_ids)[rng.integers(0, len(agency_ids), rows)],
            "method": methods, "kind": np.where(rng.random(rows) < 0.05, "joint", "routine_random"),
            "visit_started_at": started,
            "visit_ended_at": [s + dt.timedelta(hours=float(h)) for s, h in zip(started, hours, strict=True)],
        }).with_columns(
            region_code=pl.lit("330106"), item_codes=pl.lit("[]"), notice_required=pl.lit(True),
            notice_skip_reason=pl.lit(""), signed_by=pl.lit(""), refusal_reason=pl.lit(""),
            workflow=pl.lit("inspection"), state=pl.lit("closed"), state_since=pl.lit(now),
            due_unconfirmed=pl.lit(False), escalation_level=pl.lit(0), created_at=pl.lit(now),
            updated_at=pl.lit(now), version=pl.lit(1))
        load_frame(db, Inspection.__table__, frame)
        notices = rows // 5
        asked = ["营业执照及许可证件", "台账记录", "从业人员资质证明"]
        materials = json.dumps({"materials": asked}, ensure_ascii=False)
        load_frame(db, Document.__table__, pl.DataFrame({
            "number": [f"基准检通〔2026〕{i + 1}号" for i in range(notices)], "seq": np.arange(1, notices + 1),
            "entity_id": entities[rng.integers(0, len(entities), notices)],
        }).with_columns(agency_id=pl.lit(agency_ids[0]), region_code=pl.lit("330106"),
                        kind=pl.lit("inspection_notice"), series=pl.lit("检通"), year=pl.lit(2026),
                        subject_type=pl.lit("inspection"), subject_id=pl.lit(0), issued_on=pl.lit(dt.date(2026, 3, 1)),
                        context=pl.lit(materials), context_sha256=pl.lit("0" * 64), docx_template=pl.lit(""),
                        pdf_template=pl.lit(""), signer=pl.lit(""), void_reason=pl.lit(""), created_at=pl.lit(now),
                        updated_at=pl.lit(now), version=pl.lit(1)))
        matter = SupervisionMatter(code="DC-B-1", level="county", agency_id=agency_ids[0], region_code="330106",
                                   title="基准督查", due_on=dt.date(2026, 12, 31), workflow="matter",
                                   state="supervising")
        db.add(matter)
        db.flush()
        visits = 20_000
        load_frame(db, MatterVisit.__table__, pl.DataFrame({
            "unit_id": units[rng.integers(0, len(units), visits)],
            "visited_on": [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 364, visits)],
            "hours": rng.integers(1, 8, visits).astype(str), "documents_demanded": rng.integers(0, 10, visits),
        }).with_columns(matter_id=pl.lit(matter.id), agency_id=pl.lit(agency_ids[0]), on_site=pl.lit(True),
                        note=pl.lit("")))
    print(json.dumps({"inspections": rows, "notices": notices, "matter_visits": visits}))


def bench(label: str, env: dict[str, str], rows: int) -> None:
    setup(env, rows)
    wall, rss, out = sh([JG, "inspection", "burden", "--year", "2026", "--top", "5", "--json"], env, timed=True)
    figures = json.loads(out)["figures"]
    print(json.dumps({"db": label, "burden_s": round(wall, 1), "peak_rss_mib": round(rss),
                      "objects": figures["objects"], "off_site_share": figures["off_site_share"],
                      "merged_visit_rate": figures["merged_visit_rate"]}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--port", type=int, default=55495)
    args = parser.parse_args()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{memory:.0f} GiB, Python {platform.python_version()}")
    if args.sqlite:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-burden-"))
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
