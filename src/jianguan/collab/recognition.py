"""结果互认 (mutual recognition): an inspection one department has made of an item the catalog marks
recognisable (``ItemVersion.recognition_days``) satisfies the same item for every other department
for that many days — the draws leave the entity out and the frequency scheduler counts the visit,
instead of sending a second team to the same door (进一次门).

Only inspections that reached the site (or finished a remote check) count, whatever they found: a
problem found is being rectified under the first department's loop, not a reason to visit again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from jianguan.catalog import workflow as catalog_wf
from jianguan.catalog.models import ItemVersion, SupervisionItem
from jianguan.core.bulkload import select_frame
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import Inspection

VISITED = (wf.FEEDBACK, wf.RECTIFYING, wf.REVIEWING, wf.DONE)
SCHEMA = {"entity_id": pl.Int64, "item_code": pl.Utf8, "inspection_id": pl.Int64, "inspection_code": pl.Utf8,
          "agency_id": pl.Int64, "visited_on": pl.Date, "valid_until": pl.Date}


def recognisable(db: Session) -> dict[str, int]:
    """Item code → days its results are recognised, for the versions in force."""
    rows = db.execute(select(SupervisionItem.code, ItemVersion.recognition_days)
                      .join(ItemVersion, ItemVersion.item_id == SupervisionItem.id)
                      .where(ItemVersion.state == catalog_wf.IN_FORCE, ItemVersion.recognition_days.is_not(None)))
    return {str(code): int(days) for code, days in rows if days}


def recognitions(db: Session, *, on: dt.date, item_codes: Sequence[str] | None = None,
                 entity_ids: Sequence[int] | None = None, other_than: int | None = None,
                 region_codes: tuple[str, str] | None = None, days: dict[str, int] | None = None) -> pl.DataFrame:
    """Recognitions valid on ``on``: one row per (entity, item) with the latest inspection that
    gives it. ``other_than``: leave out that agency's own inspections (its own visits count anyway);
    ``days``: ``recognisable(db)`` when the caller has it already."""
    days = recognisable(db) if days is None else days
    if item_codes is not None:
        days = {c: d for c, d in days.items() if c in set(item_codes)}
    if not days:
        return pl.DataFrame(schema=SCHEMA)
    since = dt.datetime.combine(on - dt.timedelta(days=max(days.values()) + 1), dt.time(), tzinfo=dt.UTC)
    stmt = (select(Inspection.entity_id, Inspection.id, Inspection.code, Inspection.agency_id,
                   cast(Inspection.item_codes, String), cast(Inspection.visit_started_at, String))
            .where(Inspection.state.in_(VISITED), Inspection.visit_started_at >= since))
    if other_than is not None:
        stmt = stmt.where(Inspection.agency_id != other_than)
    if entity_ids is not None:
        stmt = stmt.where(Inspection.entity_id.in_(list(entity_ids) or [-1]))
    if region_codes is not None:
        stmt = stmt.where(Inspection.region_code.between(*region_codes))
    frame = select_frame(db, stmt, {"entity_id": pl.Int64, "inspection_id": pl.Int64, "inspection_code": pl.Utf8,
                                    "agency_id": pl.Int64, "items": pl.Utf8, "visited": pl.Utf8})
    if frame.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    validity = pl.DataFrame({"item_code": list(days), "days": list(days.values())},
                            schema={"item_code": pl.Utf8, "days": pl.Int64})
    return (frame.with_columns(pl.col("items").str.json_decode(pl.List(pl.Utf8)),
                               visited_on=_local_day(pl.col("visited")))
            .explode("items").rename({"items": "item_code"}).join(validity, on="item_code")
            .with_columns(valid_until=pl.col("visited_on") + pl.duration(days=pl.col("days")))
            .filter(pl.col("valid_until") >= pl.lit(on), pl.col("visited_on") <= pl.lit(on))
            .sort("visited_on", "inspection_id", descending=True)
            .unique(["entity_id", "item_code"], keep="first", maintain_order=True)
            .select(list(SCHEMA)).cast(SCHEMA))  # type: ignore[arg-type]


def _local_day(text: pl.Expr) -> pl.Expr:
    """A UTC timestamp as either database writes it → its date in Asia/Shanghai."""
    at = text.str.slice(0, 19).str.replace("T", " ").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    return at.dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Shanghai").dt.date()


def covered(db: Session, *, item_codes: Sequence[str], on: dt.date, agency_id: int | None,
            entity_ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """Entities for which every one of ``item_codes`` is recognised from another department's
    inspection on ``on`` → the codes of those inspections. An item not recognisable covers no one."""
    wanted = sorted(set(item_codes))
    if not wanted:
        return {}
    days = recognisable(db)
    if any(code not in days for code in wanted):
        return {}
    found = recognitions(db, on=on, item_codes=wanted, entity_ids=entity_ids, other_than=agency_id, days=days)
    if found.height == 0:
        return {}
    full = (found.group_by("entity_id")
            .agg(pl.col("item_code").n_unique().alias("n"), pl.col("inspection_code").unique().sort())
            .filter(pl.col("n") == len(wanted)))
    return {int(row["entity_id"]): list(row["inspection_code"]) for row in full.iter_rows(named=True)}


def of_entity(db: Session, *, entity_id: int, on: dt.date) -> list[dict[str, Any]]:
    """What another department may rely on for this entity today (the entity page shows it)."""
    return list(recognitions(db, on=on, entity_ids=[entity_id]).iter_rows(named=True))
