"""The indicator values of every active entity as of a day, read from our own tables into one frame.

Each indicator is one grouped query (entity_id → value) streamed into Polars and joined on the
registry; nothing is computed one entity at a time. The formulas are documented in docs/risk.md and
tested on hand-made cases in tests/risk/test_indicators.py; the windows are calendar days counted
back from ``as_of`` inclusive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from jianguan.cases.models import Case
from jianguan.collab.models import Complaint
from jianguan.core.bulkload import one_of, select_frame
from jianguan.core.workdays import day_start
from jianguan.entities.models import Entity, EntityLicence, EntityTag
from jianguan.inspections import workflow as iwf
from jianguan.inspections.models import Finding, Inspection
from jianguan.risk import scoring
from jianguan.risk.models import FeedRecord, Incident, Reading, Warning

YEARS_3 = 3 * 365
NEGATIVE_TAGS = ("abnormal_list", "serious_violation")
EXPIRING_DAYS = 30


def _days(as_of: dt.date, days: int) -> dt.date:
    return as_of - dt.timedelta(days=days - 1)


def _start(as_of: dt.date, days: int) -> dt.datetime:
    """The first instant of the window, in UTC."""
    return day_start(_days(as_of, days))


def _end(as_of: dt.date) -> dt.datetime:
    """The instant after the window: when the day after ``as_of`` begins."""
    return day_start(as_of + dt.timedelta(days=1))


Query = Callable[[dt.date, dict[str, Any]], Select[Any, Any]]


def _violations(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    weights = rules["violation_weights"]
    findings = (select(Finding.entity_id.label("entity_id"),
                       case((Finding.severity == "serious", weights["serious"]), else_=weights["general"])
                       .label("v"))
                .where(Finding.created_at >= _start(as_of, YEARS_3), Finding.created_at < _end(as_of)))
    cases = (select(Case.entity_id.label("entity_id"), literal(weights["penalty"]).label("v"))
             .where(Case.entity_id.is_not(None), Case.outcome == "penalty",
                    Case.decided_on >= _days(as_of, YEARS_3), Case.decided_on <= as_of))
    both = findings.union_all(cases).subquery()
    return select(both.c.entity_id, func.sum(both.c.v)).group_by(both.c.entity_id)


def _complaints(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    return (select(Complaint.entity_id, func.count())
            .where(Complaint.entity_id.is_not(None), Complaint.received_on >= _days(as_of, 365),
                   Complaint.received_on <= as_of, Complaint.flagged == "", Complaint.master_id.is_(None))
            .group_by(Complaint.entity_id))


def _warnings(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    return (select(Warning.entity_id, func.count())
            .where(Warning.fired_on >= _days(as_of, 365), Warning.fired_on <= as_of,
                   Warning.disposition != "false_alarm")
            .group_by(Warning.entity_id))


def _licences(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    """Expired licences count twice, those expiring within 30 days once."""
    soon = as_of + dt.timedelta(days=EXPIRING_DAYS)
    return (select(EntityLicence.entity_id, func.sum(case((EntityLicence.valid_until < as_of, 2), else_=1)))
            .where(EntityLicence.status == "valid", EntityLicence.valid_until.is_not(None),
                   EntityLicence.valid_until <= soon)
            .group_by(EntityLicence.entity_id))


def _overdue_inspections(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    return (select(Inspection.entity_id, func.count())
            .where(Inspection.due_date < as_of, Inspection.state.not_in((iwf.DONE, iwf.CANCELLED)))
            .group_by(Inspection.entity_id))


def _rectifications(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    """Findings whose rectification was rejected, or is past its date and not accepted."""
    late = and_(Finding.rectify_by < as_of, Finding.state.not_in((iwf.ACCEPTED, iwf.TRANSFERRED)))
    return (select(Finding.entity_id, func.count())
            .where(Finding.created_at >= _start(as_of, YEARS_3), Finding.created_at < _end(as_of),
                   or_(Finding.rejections > 0, late))
            .group_by(Finding.entity_id))


def _abnormal(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    return (select(EntityTag.entity_id, func.count(func.distinct(EntityTag.tag)))
            .where(EntityTag.tag.in_(NEGATIVE_TAGS), or_(EntityTag.since.is_(None), EntityTag.since <= as_of),
                   or_(EntityTag.until.is_(None), EntityTag.until > as_of))
            .group_by(EntityTag.entity_id))


def _sensor(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    limits = rules.get("sensor_limits", {})
    beyond = [and_(Reading.metric == metric, Reading.value > limit["gt"]) if "gt" in limit
              else and_(Reading.metric == metric, Reading.value < limit["lt"])
              for metric, limit in limits.items()]
    return (select(Reading.entity_id, func.count())
            .where(Reading.measured_at >= _start(as_of, 90), Reading.measured_at < _end(as_of),
                   or_(*beyond) if beyond else literal(False))
            .group_by(Reading.entity_id))


def _feed(kind: str, outcome: str, days: int) -> Query:
    def query(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
        return (select(FeedRecord.entity_id, func.count())
                .where(FeedRecord.kind == kind, FeedRecord.outcome == outcome,
                       FeedRecord.occurred_on >= _days(as_of, days), FeedRecord.occurred_on <= as_of)
                .group_by(FeedRecord.entity_id))
    return query


def _incidents(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    weights = rules["incident_weights"]
    weight = case(*((Incident.severity == k, v) for k, v in weights.items()), else_=1)
    return (select(Incident.entity_id, func.sum(weight))
            .where(Incident.withdrawn_reason == "", Incident.occurred_on >= _days(as_of, YEARS_3),
                   Incident.occurred_on <= as_of)
            .group_by(Incident.entity_id))


def _incident_red(as_of: dt.date, rules: dict[str, Any]) -> Select[Any, Any]:
    """The latest incident whose override is in force (its id names the reason for red)."""
    return (select(Incident.entity_id, func.max(Incident.id))
            .where(Incident.withdrawn_reason == "", Incident.red_until >= as_of, Incident.occurred_on <= as_of)
            .group_by(Incident.entity_id))


COUNTED: dict[str, Query] = {
    "violations": _violations,
    "complaints": _complaints,
    "warnings": _warnings,
    "licences": _licences,
    "overdue_inspections": _overdue_inspections,
    "rectifications": _rectifications,
    "abnormal": _abnormal,
    "sensor": _sensor,
    "mismatches": _feed("cross_check", "mismatch", 365),
    "incidents": _incidents,
    "sampling": _feed("sampling", "fail", 365),
}


def gather(db: Session, *, as_of: dt.date, rules: dict[str, Any],
           entity_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """One row per active entity: ``entity_id``, every indicator, and ``incident_id`` (an override)."""
    base = select(Entity.id, Entity.credit_class, Entity.scale, Entity.industry_code).where(Entity.status == "active")
    if entity_ids is not None:
        base = base.where(one_of(db, Entity.id, list(entity_ids)))
    frame = select_frame(db, base, {"entity_id": pl.Int64, "credit": pl.Utf8, "scale": pl.Utf8,
                                    "industry_code": pl.Utf8})
    frame = (frame.with_columns(pl.col("industry_code").fill_null("").str.slice(0, 2).alias("division"))
             .join(scoring.industry_points(rules), on="division", how="left")
             .with_columns(pl.col("industry").fill_null(float(rules["industry_points"]["default"])))
             .drop("division", "industry_code"))
    for code, query in {**COUNTED, "incident_id": _incident_red}.items():
        stmt = query(as_of, rules)
        if entity_ids is not None:  # incremental: only these entities' rows are read
            stmt = stmt.where(one_of(db, stmt.selected_columns[0], list(entity_ids)))
        part = select_frame(db, stmt, {"entity_id": pl.Int64, code: pl.Float64})
        frame = frame.join(part, on="entity_id", how="left")
    counted = [*COUNTED]
    return (frame.with_columns(pl.col(counted).fill_null(0.0), pl.col("incident_id").cast(pl.Int64))
            .with_columns(pl.col("incident_id").is_not_null().alias("incident_red")))
