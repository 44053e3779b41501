"""Double-random draw at scale: a province plan drawing 10 % of 1,000,000 entities with ~2,000 officers
and every constraint on (strata, forced inclusions, exclusions, recusal, leave, workload cap), then
``verify`` re-running it from the stored snapshot.

    .venv/bin/python bench/draw.py --rows 1000000 --pg --sqlite

For each database: a fresh one (PostgreSQL: a throwaway durable cluster), ``jianguan init``, the
province's agencies, ~2,000 market-supervision officers with credentials (some suspended or expired,
3 % on leave that day), the entity file of ``bench/import_full.py`` imported, 1 % of entities on the
abnormal list, 5,000 recorded conflicts; then ``jianguan draw run PLAN --json`` and ``jianguan draw
verify DRAW --json`` are timed as whole processes (wall seconds, peak RSS), twice each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_full import JG, PASSWORD, ROOT, generate, sh, throwaway_pg

DAY = dt.date(2026, 12, 15)
ITEM = "33000009901000"


def setup(env: dict[str, str], file: Path, officers_wanted: int) -> int:
    """Load the province; → the approved plan's id."""
    sh([JG, "init", "--json"], env)
    sh([JG, "users", "create", "bench", "--name", "基准测试", "--role", "system_admin", "--scope", "all",
        "--password", PASSWORD, "--json"], env)
    os.environ.update(env)
    from jianguan.config import get_settings
    from jianguan.db import dispose_engines

    get_settings.cache_clear()  # a second database in this process
    dispose_engines()
    import polars as pl
    from sqlalchemy import insert, select

    from jianguan.auth import service as auth
    from jianguan.auth.models import User
    from jianguan.catalog import service as catalog
    from jianguan.catalog.schemas import ItemIn
    from jianguan.db import session_scope
    from jianguan.entities.models import Entity, EntityTag
    from jianguan.inspections import service as plans
    from jianguan.inspections.schemas import PlanIn
    from jianguan.officers import service as agencies
    from jianguan.officers.models import Agency, Officer, OfficerConflict, OfficerLeave
    from jianguan.synth import province as synth

    place = synth.load_province("330000")
    with session_scope() as db:
        by_code: dict[str, Agency] = {}
        for row in synth.agencies(place).iter_rows(named=True):
            parent = by_code.get(row["parent_code"] or "")
            by_code[row["code"]] = agencies.create_agency(
                db, code=row["code"], name=row["name"], region_code=row["region_code"],
                parent_id=parent.id if parent else None, domains=row["domains"].split(";"), actor=None)
        province = by_code["33-SJ"]
        author = auth.create_user(db, username="planner", display_name="计划员", password=PASSWORD,
                                  roles=["officer"], agency_id=province.id, data_scope="all", actor=None)
        leader = auth.create_user(db, username="chief", display_name="负责人", password=PASSWORD, roles=["leader"],
                                  agency_id=province.id, data_scope="all", actor=None)
        catalog.propose_item(db, actor=None, load=True, data=ItemIn.model_validate({
            "code": ITEM, "name": "对生产者、销售者产品质量的监督抽查", "domain": "market",
            "object_kinds": ["enterprise", "individual_business", "cooperative", "natural_person"],
            "methods": ["on_site", "documents"], "check_points": [],
            "legal_basis": [{"law": "product-quality-law", "article": "第十五条"}],
            "effective_from": dt.date(2026, 1, 1)}))
    counties = sum(1 for a in by_code if a.endswith("-SJ") and len(a.split("-")[0]) == 6)
    per = max(2, officers_wanted // max(counties, 1))
    people = synth.officers(place, seed=7, per_agency=(per - 2, per + 2), today=dt.date(2026, 11, 1))
    people = people.filter(pl.col("agency_code").str.ends_with("-SJ"))
    officers_csv = file.with_name("bench-officers.csv")
    people.write_csv(officers_csv)
    wall, _, out = sh([JG, "import", "officers", str(officers_csv), "--json", "--user", "bench"], env)
    report = json.loads(out)
    if not report["created"]:
        sys.exit(f"officers not imported: {report['problems'][:3]}")
    print(json.dumps({"officers imported": report["created"], "s": round(wall, 1)}))
    wall, _, out = sh([JG, "import", "entities", str(file), "--json", "--user", "bench"], env)
    print(json.dumps({"entities imported": json.loads(out)["created"], "s": round(wall, 1)}))
    rng = random.Random(7)
    with session_scope() as db:
        top = db.scalar(select(Entity.id).order_by(Entity.id.desc()).limit(1)) or 1
        officer_ids = list(db.scalars(select(Officer.id)))
        tagged = rng.sample(range(1, top + 1), top // 100)
        db.execute(insert(EntityTag), [{"entity_id": e, "tag": "abnormal_list", "source": "bench"} for e in tagged])
        db.execute(insert(OfficerConflict), [{"officer_id": rng.choice(officer_ids), "entity_id": rng.randint(1, top),
                                              "relation": "relative"} for _ in range(5000)])
        db.execute(insert(OfficerLeave), [{"officer_id": o, "starts_on": DAY, "ends_on": DAY, "reason": "休假"}
                                          for o in rng.sample(officer_ids, len(officer_ids) * 3 // 100)])
        author = db.scalars(select(User).where(User.username == "planner")).one()
        leader = db.scalars(select(User).where(User.username == "chief")).one()
        plan = plans.create_plan(db, actor=author, data=PlanIn.model_validate({
            "title": "2026年全省市场主体登记事项双随机抽查", "kind": "routine_random", "methods": ["on_site"],
            "item_codes": [ITEM], "scope": {"region_code": "330000"}, "ratio": "10", "workload_cap": 200,
            "starts_on": dt.date(2026, 12, 1), "ends_on": dt.date(2026, 12, 31)}))
        plans.decide(db, plan_id=plan.id, action="submit", actor=author)
        plans.decide(db, plan_id=plan.id, action="approve", actor=leader)
        return plan.id


def bench(label: str, env: dict[str, str], file: Path, officers: int) -> dict[str, object]:
    marker = Path(env["JIANGUAN_HOME"]) / "bench-plan-id"  # --home: set up once, draw again and again
    if marker.exists():
        plan_id = int(marker.read_text())
        sh([str(ROOT / ".venv" / "bin" / "python"), "-c", _VOID.format(plan=plan_id)], env)
    else:
        plan_id = setup(env, file, officers)
        marker.write_text(str(plan_id))
    result: dict[str, object] = {"db": label}
    wall, rss, out = sh([JG, "draw", "run", str(plan_id), "--seed", "基准 2026", "--date", DAY.isoformat(),
                         "--json"], env, timed=True)
    draw = json.loads(out)
    result.update(draw_s=round(wall, 2), draw_peak_rss_mib=round(rss), pool=draw["pool_size"],
                  drawn=draw["selected_count"], officers=draw["summary"]["officers"],
                  exclusions=draw["summary"]["exclusions"], forced=draw["summary"]["forced"],
                  recusals=draw["summary"]["recusals"])
    verify = []
    for _ in range(2):
        wall, rss, out = sh([JG, "draw", "verify", str(draw["id"]), "--json"], env, timed=True)
        assert json.loads(out)["identical"], out
        verify.append(round(wall, 2))
    result.update(verify_s=verify, verify_peak_rss_mib=round(rss))
    print(json.dumps(result, ensure_ascii=False))
    return result


_VOID = """
from jianguan.db import session_scope
from jianguan.inspections import draws, service
with session_scope() as db:
    plan = service.get_plan(db, plan_id={plan}, actor=None)
    current = draws.current_draw(db, plan)
    if current is not None:
        draws.void_draw(db, draw_id=current.id, reason="基准测试重抽", actor=None)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "jianguan-bench")
    parser.add_argument("--port", type=int, default=55492)
    parser.add_argument("--home", type=Path, help="keep the prepared database (SQLite) and home here, reuse them")
    parser.add_argument("--pg-url", help="use this PostgreSQL database (kept) instead of a throwaway cluster")
    args = parser.parse_args()
    file = generate(args.rows, args.cache)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{memory:.0f} GiB, Python {platform.python_version()}")
    if args.sqlite:
        home = args.home or Path(tempfile.mkdtemp(prefix="jg-bench-draw-"))
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "JIANGUAN_HOME": str(home)}
        env.pop("JIANGUAN_DATABASE_URL", None)
        try:
            bench("SQLite", env, file, args.officers)
        finally:
            if args.home is None:
                shutil.rmtree(home, ignore_errors=True)
    if args.pg and args.pg_url:
        home = args.home or Path(tempfile.mkdtemp(prefix="jg-bench-pghome-"))
        home.mkdir(parents=True, exist_ok=True)
        bench("PostgreSQL", {**os.environ, "JIANGUAN_HOME": str(home), "JIANGUAN_DATABASE_URL": args.pg_url}, file,
              args.officers)
    elif args.pg:
        home = Path(tempfile.mkdtemp(prefix="jg-bench-pghome-"))
        with throwaway_pg(args.port) as url:
            try:
                bench("PostgreSQL", {**os.environ, "JIANGUAN_HOME": str(home), "JIANGUAN_DATABASE_URL": url}, file,
                      args.officers)
            finally:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
