"""The overdue scan over a province's open inspection steps: 1,000,000 inspections waiting for their
notice or their feedback letter, a share of them late by up to 60 days, two officers each.

    .venv/bin/python bench/overdue.py --rows 1000000 --late 0.1 --sqlite --pg

For each database: a fresh one, ``jianguan init``, the rows written in bulk, then ``jianguan jobs run
workflow.overdue_scan --json`` timed as a whole process (wall seconds, peak RSS) — every late record
raised to its level with an event and an audit entry per level, each officer told once per level —
and timed again (nothing left to do: the cost of looking).
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

PASSWORD = "Jiance-2026-jg"


def setup(env: dict[str, str], rows: int, late: float) -> None:
    sh([JG, "init", "--json"], env)
    os.environ.update(env)
    import numpy as np
    import polars as pl
    from sqlalchemy import insert, select

    from jianguan.auth import service as auth
    from jianguan.config import get_settings
    from jianguan.core.bulkload import load_frame
    from jianguan.core.workdays import today_shanghai
    from jianguan.db import dispose_engines, session_scope, utcnow
    from jianguan.entities.models import Entity
    from jianguan.inspections.models import Inspection, InspectionOfficer
    from jianguan.officers import roster
    from jianguan.officers import service as agencies
    from jianguan.officers.models import Officer

    get_settings.cache_clear()
    dispose_engines()
    rng = np.random.default_rng(7)
    today = today_shanghai()
    with session_scope() as db:
        agency = agencies.create_agency(db, code="330106-SJ", name="杭州市西湖区市场监督管理局", region_code="330106",
                                        actor=None)
        for i in range(10):  # officers with accounts (the people told)
            user = auth.create_user(db, username=f"zfy{i}", display_name=f"执法员{i}", password=PASSWORD,
                                    roles=["officer"], agency_id=agency.id, actor=None)
            roster.create_officer(db, agency_id=agency.id, name=f"执法员{i}", domains=["food"], user_id=user.id,
                                  actor=None)
        auth.create_user(db, username="leader", display_name="负责人", password=PASSWORD, roles=["leader"],
                         agency_id=agency.id, actor=None)
        db.execute(insert(Entity), [{"uscc": f"91330106B{i:09d}", "name": f"基准主体{i}", "kind": "enterprise",
                                     "status": "active", "region_code": "330106", "agency_id": agency.id}
                                    for i in range(10_000)])
        officers = list(db.scalars(select(Officer.id)))
        entity_ids = list(db.scalars(select(Entity.id)))
        now = utcnow()
        is_late = rng.random(rows) < late
        offset = np.where(is_late, -rng.integers(1, 61, rows), rng.integers(0, 61, rows))
        due = [today + dt.timedelta(days=int(d)) for d in offset]
        frame = pl.DataFrame({
            "code": [f"330106-SJ-JC2026-{i:07d}" for i in range(1, rows + 1)],
            "entity_id": np.array(entity_ids)[rng.integers(0, len(entity_ids), rows)],
            "state": np.where(rng.random(rows) < 0.5, "notice", "feedback"), "due_date": due,
        }).with_columns(
            agency_id=pl.lit(agency.id), region_code=pl.lit("330106"), kind=pl.lit("routine_random"),
            method=pl.lit("on_site"), item_codes=pl.lit("[]"), notice_required=pl.lit(True),
            notice_skip_reason=pl.lit(""), signed_by=pl.lit(""), refusal_reason=pl.lit(""),
            workflow=pl.lit("inspection"), state_since=pl.lit(now), due_unconfirmed=pl.lit(False),
            escalation_level=pl.lit(0), created_at=pl.lit(now), updated_at=pl.lit(now), version=pl.lit(1))
        load_frame(db, Inspection.__table__, frame)
        ids = np.array(list(db.scalars(select(Inspection.id))))
        pairs = rng.integers(0, len(officers), (len(ids), 2))
        pairs[:, 1] = (pairs[:, 0] + 1 + rng.integers(0, len(officers) - 1, len(ids))) % len(officers)
        team = pl.DataFrame({"inspection_id": np.repeat(ids, 2),
                             "officer_id": np.array(officers)[pairs.reshape(-1)],
                             "domain": "food", "credential_number": ""})
        load_frame(db, InspectionOfficer.__table__, team)
    print(json.dumps({"inspections": rows, "late": int(is_late.sum())}))


def bench(label: str, env: dict[str, str], rows: int, late: float) -> None:
    setup(env, rows, late)
    result: dict[str, object] = {"db": label}
    for run in ("scan_s", "rescan_s"):
        wall, rss, out = sh([JG, "jobs", "run", "workflow.overdue_scan", "--json"], env, timed=True)
        result[run] = round(wall, 1)
        result[run.replace("_s", "_peak_rss_mib")] = round(rss)
        result[run.replace("_s", "_result")] = json.loads(out)
    print(json.dumps(result, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--late", type=float, default=0.1)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--port", type=int, default=55494)
    args = parser.parse_args()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{memory:.0f} GiB, Python {platform.python_version()}")
    if args.sqlite:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-overdue-"))
        env = {**os.environ, "JIANGUAN_HOME": str(home)}
        env.pop("JIANGUAN_DATABASE_URL", None)
        try:
            bench("SQLite", env, args.rows, args.late)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    if args.pg:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-pghome-"))
        with throwaway_pg(args.port) as url:
            try:
                bench("PostgreSQL", {**os.environ, "JIANGUAN_HOME": str(home), "JIANGUAN_DATABASE_URL": url},
                      args.rows, args.late)
            finally:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
