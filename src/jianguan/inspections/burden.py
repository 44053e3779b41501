"""The burden of supervision on those supervised (减负): per entity and per base-level government unit,
visits a year, by how many departments, documents demanded and hours spent hosting; the programme's
figures against their targets; and a warning when several departments visit the same object for
overlapping items within a window, with a proposed merged joint visit.

Counted from inspections (their visit times, method and plan kind), the materials their notices
demanded, and 督查 visits to government units. Columnar in Polars: a province's year is one pass.

Definitions (docs/inspections.md §督查):
- hosting share = hours on site / (working days of the year × 8 h); target ≤ 15 % for every object;
- off-site share = inspections by documents, online or remote video / all inspections; target ≥ 40 %;
- merged-visit rate = on-site visits of joint plans or joint tasks / all on-site visits (one visit, several
  departments); the member inspections of a joint task (联合检查, collab/joint.py) count as one visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import in_region, visible
from jianguan.core import workflow
from jianguan.core.bulkload import select_frame
from jianguan.core.workdays import local_date
from jianguan.documents.models import Document
from jianguan.entities.models import Entity
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import Inspection, InspectionPlan, MatterVisit
from jianguan.officers.models import Agency

TARGETS = {"hosting_share_max": 15.0, "off_site_share_min": 40.0}
ON_SITE_METHODS = ("on_site", "mystery_shopper")
HOURS_A_DAY = 8
WINDOW_DAYS = 30
NOT_VISITED = (wf.NOTICE, wf.PREPARING, wf.READY)


def _local_year(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The year's bounds in UTC for Asia/Shanghai dates."""
    offset = dt.timedelta(hours=8)
    return (dt.datetime(year, 1, 1, tzinfo=dt.UTC) - offset, dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) - offset)


def _inspections(db: Session, actor: User, year: int, region: str) -> pl.DataFrame:
    start, end = _local_year(year)
    stmt = (select(Inspection.entity_id, Inspection.agency_id, Inspection.method,
                   func.coalesce(InspectionPlan.kind, Inspection.kind),
                   cast(Inspection.visit_started_at, String), cast(Inspection.visit_ended_at, String),
                   Inspection.joint_task_id)
            .outerjoin(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
            .where(visible(Inspection, actor), Inspection.visit_started_at >= start, Inspection.visit_started_at < end))
    if region:
        stmt = stmt.where(in_region(Inspection.region_code, region))
    frame = select_frame(db, stmt, {"entity_id": pl.Int64, "agency_id": pl.Int64, "method": pl.Utf8,
                                    "plan_kind": pl.Utf8, "started": pl.Utf8, "ended": pl.Utf8,
                                    "joint_task_id": pl.Int64})

    def parse(column: str) -> pl.Expr:
        return pl.col(column).str.slice(0, 19).str.replace("T", " ").str.to_datetime("%Y-%m-%d %H:%M:%S",
                                                                                   strict=False)

    on_site = pl.col("method").is_in(list(ON_SITE_METHODS))
    in_task = pl.col("joint_task_id").is_not_null()
    # A joint task's member inspections are one visit: counted (and its hours) once, on its first member.
    counted = ~in_task | pl.col("joint_task_id").is_first_distinct()
    return frame.with_columns(
        on_site=on_site,
        counted=counted,
        joint=on_site & ((pl.col("plan_kind") == "joint") | in_task),
        hours=pl.when(on_site & counted).then((parse("ended") - parse("started")).dt.total_seconds() / 3600)
        .otherwise(0.0).fill_null(0.0).clip(0, 24),
        documents=pl.when(pl.col("method") == "documents").then(1).otherwise(0).cast(pl.Int64),
    ).select("entity_id", "agency_id", "on_site", "counted", "joint", "hours", "documents")


def _notice_materials(db: Session, actor: User, year: int, region: str) -> pl.DataFrame:
    """Materials each inspection notice of the year demanded (its frozen list)."""
    if db.get_bind().dialect.name == "sqlite":
        length = func.json_array_length(Document.context, "$.materials")
    else:
        length = func.json_array_length(Document.context.op("->")("materials"))
    asked = func.coalesce(length, 0)
    stmt = select(Document.entity_id, asked).where(
        visible(Document, actor), Document.kind == "inspection_notice", Document.year == year,
        Document.voided_at.is_(None), Document.entity_id.is_not(None))
    if region:
        stmt = stmt.where(in_region(Document.region_code, region))
    return select_frame(db, stmt, {"entity_id": pl.Int64, "documents": pl.Int64}).with_columns(
        pl.col("documents").fill_null(0))


def _matter_visits(db: Session, actor: User, year: int, region: str) -> pl.DataFrame:
    stmt = (select(MatterVisit.unit_id, MatterVisit.agency_id, MatterVisit.on_site,
                   cast(MatterVisit.hours, String), MatterVisit.documents_demanded)
            .where(visible(MatterVisit, actor), MatterVisit.visited_on.between(dt.date(year, 1, 1),
                                                                               dt.date(year, 12, 31))))
    if region:
        stmt = stmt.join(Entity, Entity.id == MatterVisit.unit_id).where(in_region(Entity.region_code, region))
    frame = select_frame(db, stmt, {"entity_id": pl.Int64, "agency_id": pl.Int64, "on_site": pl.Utf8,
                                    "hours": pl.Utf8, "documents": pl.Int64})
    return frame.with_columns(on_site=pl.col("on_site").cast(pl.Utf8).is_in(["1", "t", "true", "True"]),
                              counted=pl.lit(True), joint=pl.lit(False),
                              hours=pl.col("hours").cast(pl.Float64).fill_null(0.0)).select(
        "entity_id", "agency_id", "on_site", "counted", "joint", "hours", "documents")


@dataclass(frozen=True)
class Burden:
    year: int
    working_hours: int
    per_object: pl.DataFrame  # entity_id, name, uscc, kind, region_code, visits, off_site, departments, …
    figures: dict[str, Any]


def burden(db: Session, *, actor: User, year: int, region: str = "") -> Burden:
    """Per object and overall, for the objects the actor's data scope covers."""
    calendar = workflow.calendar(db)
    working_hours = calendar.working_days_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31)) * HOURS_A_DAY
    events = pl.concat([_inspections(db, actor, year, region), _matter_visits(db, actor, year, region)])
    materials = _notice_materials(db, actor, year, region)
    per = (events.group_by("entity_id").agg(
        visits=(pl.col("on_site") & pl.col("counted")).sum().cast(pl.Int64),
        off_site=(~pl.col("on_site") & pl.col("counted")).sum().cast(pl.Int64),
        joint=(pl.col("joint") & pl.col("counted")).sum().cast(pl.Int64),
        departments=pl.col("agency_id").filter(pl.col("on_site")).n_unique().cast(pl.Int64),
        hours=pl.col("hours").sum(), documents=pl.col("documents").sum().cast(pl.Int64))
        .join(materials.group_by("entity_id").agg(materials=pl.col("documents").sum()), on="entity_id", how="full",
              coalesce=True)
        .with_columns(pl.col("visits", "off_site", "joint", "departments", "documents", "materials").fill_null(0),
                      pl.col("hours").fill_null(0.0))
        .with_columns(documents=pl.col("documents") + pl.col("materials"),
                      hosting_share=(100 * pl.col("hours") / max(working_hours, 1)).round(2))
        .drop("materials"))
    names = _names(db, per["entity_id"].to_list())
    per = per.join(names, on="entity_id", how="left").sort(["visits", "departments", "hours"], descending=True)
    visits = events.filter(pl.col("counted"))
    on_site = int(visits["on_site"].sum()) if visits.height else 0
    total = visits.height
    over = int((per["hosting_share"] > TARGETS["hosting_share_max"]).sum()) if per.height else 0
    figures: dict[str, Any] = {
        "objects": per.height,
        "visits": on_site,
        "off_site": total - on_site,
        "off_site_share": round(100 * (total - on_site) / total, 1) if total else None,
        "merged_visit_rate": round(100 * int(visits["joint"].sum()) / on_site, 1) if on_site else None,
        "hosting_share_max": float(per["hosting_share"].max() or 0) if per.height else None,  # type: ignore[arg-type]
        "objects_over_hosting_target": over,
        "visited_by_several": int((per["departments"] >= 2).sum()) if per.height else 0,
        "targets": TARGETS,
    }
    figures["off_site_meets_target"] = (None if figures["off_site_share"] is None
                                        else figures["off_site_share"] >= TARGETS["off_site_share_min"])
    figures["hosting_meets_target"] = None if not per.height else over == 0
    return Burden(year, working_hours, per, figures)


def _names(db: Session, ids: list[int]) -> pl.DataFrame:
    schema = {"entity_id": pl.Int64, "name": pl.Utf8, "uscc": pl.Utf8, "kind": pl.Utf8, "region_code": pl.Utf8}
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), 5000):
        rows += [tuple(r) for r in db.execute(select(Entity.id, Entity.name, Entity.uscc, Entity.kind,
                                                     Entity.region_code).where(Entity.id.in_(ids[i:i + 5000])))]
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------- overlapping visits


@dataclass(frozen=True)
class Overlap:
    """Several departments at one object within the window for overlapping items: merge them."""

    entity_id: int
    entity_name: str
    inspections: list[dict[str, Any]]  # id, code, agency, items, date, visited
    agencies: list[str]
    overlapping_items: list[str]
    proposal: dict[str, Any]  # the merged visit: date, lead agency, inspections to merge


def _overlapping_items(db: Session) -> set[frozenset[str]]:
    """Pairs of item codes the catalog finds overlapping (same article, or check points read alike)."""
    from jianguan.catalog import service as catalog

    return {frozenset((c.a.item.code, c.b.item.code)) for c in catalog.joint_candidates(db)}


def overlaps(db: Session, *, actor: User, on: dt.date, window_days: int = WINDOW_DAYS,
             region: str = "") -> list[Overlap]:
    """Objects visited or due to be visited by two or more departments within ``window_days`` of each
    other, for the same item or items the catalog finds overlapping."""
    lo, hi = on - dt.timedelta(days=window_days), on + dt.timedelta(days=window_days)
    shanghai = dt.timedelta(hours=8)
    first = dt.datetime.combine(lo, dt.time(), tzinfo=dt.UTC) - shanghai
    last = dt.datetime.combine(hi + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) - shanghai
    where = [visible(Inspection, actor), Inspection.state != wf.CANCELLED,
             or_(Inspection.scheduled_on.between(lo, hi),
                 and_(Inspection.scheduled_on.is_(None), Inspection.visit_started_at >= first,
                      Inspection.visit_started_at < last))]
    if region:
        where.append(in_region(Inspection.region_code, region))
    # Columnar first: only objects where two agencies share an item (or an overlapping pair) go on.
    seen = select_frame(db, select(Inspection.entity_id, Inspection.agency_id, cast(Inspection.item_codes, String))
                        .where(*where), {"entity_id": pl.Int64, "agency_id": pl.Int64, "items": pl.Utf8})
    if seen.height == 0:
        return []
    several = seen.group_by("entity_id").agg(pl.col("agency_id").n_unique().alias("n")).filter(pl.col("n") >= 2)
    if several.height == 0:
        return []
    pairs = _overlapping_items(db)
    suspects = _suspects(seen.join(several.select("entity_id"), on="entity_id"), pairs)
    if not suspects:
        return []
    by_entity: dict[int, list[Inspection]] = {}
    for chunk in range(0, len(suspects), 5000):
        ids = suspects[chunk:chunk + 5000]
        for record in db.scalars(select(Inspection).where(*where, Inspection.entity_id.in_(ids))
                                 .order_by(Inspection.entity_id, Inspection.id)):
            when = _day(record)
            if when is not None and lo <= when <= hi:
                by_entity.setdefault(record.entity_id, []).append(record)
    agencies = {a.id: a.name for a in db.scalars(select(Agency))}
    out: list[Overlap] = []
    for entity_id, records in by_entity.items():
        if len({r.agency_id for r in records}) < 2:
            continue
        shared = _shared(records, pairs)
        if not shared:
            continue
        group = [r for r in records if set(r.item_codes) & shared]
        if len({r.agency_id for r in group}) < 2:
            continue
        pending = [r for r in group if r.state in NOT_VISITED]
        dates = sorted(d for d in (_day(r) for r in pending) if d is not None)
        lead = max(pending, key=lambda r: len(r.item_codes)) if pending else None
        entity = db.get(Entity, entity_id)
        out.append(Overlap(
            entity_id, entity.name if entity else "",
            [{"id": r.id, "code": r.code, "agency": agencies.get(r.agency_id, ""), "items": r.item_codes,
              "date": str(_day(r) or ""), "visited": r.state not in NOT_VISITED} for r in group],
            sorted({agencies.get(r.agency_id, "") for r in group}), sorted(shared),
            {"date": str(dates[0]) if dates else None,
             "lead_agency": agencies.get(lead.agency_id, "") if lead else None,
             "merge": [r.code for r in pending], "possible": len({r.agency_id for r in pending}) >= 2}))
    return sorted(out, key=lambda o: (not o.proposal["possible"], o.entity_name))


def _suspects(rows: pl.DataFrame, pairs: set[frozenset[str]]) -> list[int]:
    """Entities where inspections of two different agencies name the same item or an overlapping pair."""
    items = (rows.with_columns(pl.col("items").str.json_decode(pl.List(pl.Utf8)))
             .explode("items").drop_nulls("items").rename({"items": "item"}))
    links = [(a, b) for pair in pairs if len(pair) == 2 for a, b in (tuple(pair), tuple(pair)[::-1])]
    related = pl.concat([items.select(pl.col("item"), pl.col("item").alias("other")).unique(),
                         pl.DataFrame(links, schema={"item": pl.Utf8, "other": pl.Utf8}, orient="row")])
    left = items.join(related, on="item")
    right = items.select("entity_id", pl.col("agency_id").alias("agency_b"), pl.col("item").alias("other"))
    hits = left.join(right, on=["entity_id", "other"]).filter(pl.col("agency_id") != pl.col("agency_b"))
    return sorted(hits.get_column("entity_id").unique().to_list())


def _day(record: Inspection) -> dt.date | None:
    if record.scheduled_on is not None:
        return record.scheduled_on
    if record.visit_started_at is not None:
        return local_date(record.visit_started_at)
    return None


def _shared(records: list[Inspection], pairs: set[frozenset[str]]) -> set[str]:
    """Item codes that two different agencies' inspections share, directly or as an overlapping pair."""
    shared: set[str] = set()
    for i, a in enumerate(records):
        for b in records[i + 1:]:
            if a.agency_id == b.agency_id:
                continue
            for x in a.item_codes:
                for y in b.item_codes:
                    if x == y or frozenset((x, y)) in pairs:
                        shared |= {x, y}
    return shared
