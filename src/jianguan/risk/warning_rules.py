"""Warning rules kept as versioned rows, and the frames the rule engine (risk/evaluate.py) reads, built
from our own tables: complaints and feed records as events, sensor readings, open dates (licences,
equipment inspections, hidden dangers, rectifications), declared figures by period, and level changes.

A saved rule is never edited: the editor writes the next version, validated first (risk/rules.py), and
every warning records the version that raised it. Each source is read only as far back as the rules
in force need (a 24-hour threshold needs two days of readings, a 7-day-against-90-day surge 98 days of
complaints), so a daily run does not scan years of readings.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.collab.models import Complaint
from jianguan.core.bulkload import select_frame
from jianguan.core.errors import Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import day_start
from jianguan.entities.models import EntityLicence, RiskHistory
from jianguan.inspections import workflow as iwf
from jianguan.inspections.models import Finding, Inspection
from jianguan.risk import evaluate, rules
from jianguan.risk.models import FeedRecord, Incident, Reading, WarningRule
from jianguan.risk.rules import RuleSpec

EVENT_FEEDS = ("sampling", "opinion", "drill", "training", "fire_system", "hidden_danger", "rapid_test",
               "foodborne_illness", "kitchen_alert", "self_inspection")
OPEN_HIDDEN_DANGER = ("open", "")
GRADED = ("risk_score",)  # risk-history sources whose level a later change is measured against


# --------------------------------------------------------------------------- versions


def load_shipped(db: Session) -> int:
    """Load the shipped rules (risk/data/rules.yaml) not yet stored; a stored version is never changed."""
    have = {(c, v) for c, v in db.execute(select(WarningRule.code, WarningRule.version_number))}
    added = 0
    for rule in rules.shipped():
        if (rule.code, rule.version) not in have:
            db.add(_row(rule, actor=None))
            added += 1
    db.flush()
    return added


def _row(rule: RuleSpec, *, actor: User | None) -> WarningRule:
    return WarningRule(code=rule.code, version_number=rule.version, name=rule.name, kind=rule.kind,
                       domain=rule.domain, level=rule.level, spec=rules.to_data(rule),
                       effective_from=rule.effective_from, effective_to=rule.effective_to,
                       created_by=actor.id if actor else None)


def stored(db: Session) -> list[RuleSpec]:
    """Every stored version that is switched on (rows are validated again as they are read)."""
    return [rules.validate(row.spec) for row in db.scalars(select(WarningRule).where(WarningRule.active)
                                                            .order_by(WarningRule.code, WarningRule.version_number))]


def in_force(db: Session, *, on: dt.date) -> list[RuleSpec]:
    return rules.in_force(stored(db), on)


def versions(db: Session, *, code: str) -> list[WarningRule]:
    found = list(db.scalars(select(WarningRule).where(WarningRule.code == code)
                            .order_by(WarningRule.version_number.desc())))
    if not found:
        raise NotFound(N_("No warning rule {code}."), code=code)
    return found


def may_edit(actor: User | None) -> bool:
    return actor is not None and actor.has_role("system_admin", "legal_reviewer")


def save(db: Session, *, data: dict[str, Any], actor: User | None) -> WarningRule:
    """A new version of a rule (or a new rule), checked first: the error names the field."""
    if not may_edit(actor):
        raise Forbidden(N_("Only system administrators and legal reviewers change warning rules."))
    code = str(data.get("code") or "")
    latest = db.scalar(select(func.max(WarningRule.version_number)).where(WarningRule.code == code))
    rule = rules.validate({**data, "version": (latest or 0) + 1})
    row = _row(rule, actor=actor)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="risk.rule_saved", object_type="warning_rule", object_id=row.id,
                 payload=row.spec, detail={"code": rule.code, "version": rule.version})
    return row


def set_active(db: Session, *, code: str, active: bool, actor: User | None) -> int:
    """Switch a rule off (or on again): every version, audited; raised warnings stay."""
    if not may_edit(actor):
        raise Forbidden(N_("Only system administrators and legal reviewers change warning rules."))
    rows = versions(db, code=code)
    for row in rows:
        row.active = active
    db.flush()
    audit.record(db, actor=actor, action="risk.rule_active", object_type="warning_rule", object_id=rows[0].id,
                 detail={"code": code, "active": active})
    return len(rows)


# --------------------------------------------------------------------------- frames from our tables


def lookback(rule: RuleSpec) -> int:
    """How many days back a rule's source must be read to decide one day."""
    p: Any = rule.params
    if rule.kind == "threshold":
        return math.ceil(int(p.window_hours) / 24) + 1
    if rule.kind == "window":
        return int(p.recent_days) + int(p.baseline_days or 0) + 1
    if rule.kind in ("consecutive", "mismatch", "level_change"):
        return int(p.within_days) + 31
    return 0


def _reach(active: Sequence[RuleSpec], origin: str) -> int:
    """The longest look back among the rules reading ``origin`` (readings / events / periods / levels)."""
    def reads(rule: RuleSpec) -> bool:
        p: Any = rule.params
        if rule.kind == "window":
            return bool(p.source.startswith(origin + ":"))
        return {"threshold": "readings", "consecutive": "events", "mismatch": "periods",
                "level_change": "levels"}.get(rule.kind) == origin
    return max((lookback(r) for r in active if reads(r)), default=0)


def _readings(db: Session, first: dt.date, last: dt.date) -> pl.DataFrame:
    stmt = (select(Reading.entity_id, Reading.metric, cast(Reading.measured_at, String), Reading.value)
            .where(Reading.measured_at >= day_start(first),
                   Reading.measured_at < day_start(last + dt.timedelta(days=1))))
    frame = select_frame(db, stmt, {"entity_id": pl.Int64, "metric": pl.Utf8, "measured_at": pl.Utf8,
                                    "value": pl.Float64})
    return frame.with_columns(pl.col("measured_at").str.slice(0, 19).str.replace("T", " ")
                              .str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us").dt.replace_time_zone("UTC"))


def _events(db: Session, first: dt.date, last: dt.date) -> pl.DataFrame:
    schema = {"entity_id": pl.Int64, "kind": pl.Utf8, "category": pl.Utf8, "occurred_on": pl.Utf8,
              "outcome": pl.Utf8}
    complaints = (select(Complaint.entity_id, literal("complaint"), Complaint.category,
                         cast(Complaint.received_on, String), literal(""))
                  .where(Complaint.entity_id.is_not(None), Complaint.received_on >= first,
                         Complaint.received_on <= last, Complaint.master_id.is_(None), Complaint.flagged == ""))
    feeds = (select(FeedRecord.entity_id, FeedRecord.kind, FeedRecord.category, cast(FeedRecord.occurred_on, String),
                    FeedRecord.outcome)
             .where(FeedRecord.kind.in_(EVENT_FEEDS), FeedRecord.occurred_on >= first, FeedRecord.occurred_on <= last))
    frame = pl.concat([select_frame(db, complaints, schema), select_frame(db, feeds, schema)])
    return frame.with_columns(pl.col("occurred_on").str.slice(0, 10).str.to_date())


def _attributes(db: Session, as_of: dt.date) -> pl.DataFrame:
    """Open dates only: a valid licence's expiry, each device's latest inspection due date, open hidden
    dangers and rectifications not yet accepted."""
    schema = {"entity_id": pl.Int64, "attribute": pl.Utf8, "due_on": pl.Utf8}
    licences = (select(EntityLicence.entity_id, literal("licence_valid_until"), cast(EntityLicence.valid_until, String))
                .where(EntityLicence.status == "valid", EntityLicence.valid_until.is_not(None)))
    device = func.coalesce(FeedRecord.category, "")
    latest = (select(FeedRecord.entity_id.label("e"), device.label("d"), func.max(FeedRecord.occurred_on).label("m"))
              .where(FeedRecord.kind == "equipment_inspection").group_by(FeedRecord.entity_id, device).subquery())
    equipment = (select(FeedRecord.entity_id, literal("equipment_inspection_due"), cast(FeedRecord.due_on, String))
                 .join(latest, (latest.c.e == FeedRecord.entity_id) & (latest.c.d == device)
                       & (latest.c.m == FeedRecord.occurred_on))
                 .where(FeedRecord.kind == "equipment_inspection", FeedRecord.due_on.is_not(None)))
    dangers = (select(FeedRecord.entity_id, literal("hidden_danger_due"), cast(FeedRecord.due_on, String))
               .where(FeedRecord.kind == "hidden_danger", FeedRecord.outcome.in_(OPEN_HIDDEN_DANGER),
                      FeedRecord.due_on.is_not(None)))
    rectifications = (select(Finding.entity_id, literal("rectification_due"), cast(Finding.rectify_by, String))
                      .where(Finding.state.not_in((iwf.ACCEPTED, iwf.TRANSFERRED))))
    frame = pl.concat([select_frame(db, q, schema) for q in (licences, equipment, dangers, rectifications)])
    return frame.with_columns(pl.col("due_on").str.slice(0, 10).str.to_date())


def _periods(db: Session, first: dt.date, last: dt.date) -> pl.DataFrame:
    """Declared figures, and metered electricity summed by month from the readings."""
    schema = {"entity_id": pl.Int64, "period": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
    declared = (select(FeedRecord.entity_id, FeedRecord.period, FeedRecord.metric, FeedRecord.value)
                .where(FeedRecord.kind == "declared", FeedRecord.occurred_on >= first, FeedRecord.occurred_on <= last))
    frame = select_frame(db, declared, schema)
    metered = _readings(db, first, last).filter(pl.col("metric") == "electricity_kwh")
    if metered.height:
        monthly = (metered.with_columns(period=pl.col("measured_at").dt.convert_time_zone("Asia/Shanghai")
                                        .dt.strftime("%Y-%m"))
                   .group_by("entity_id", "period", "metric").agg(pl.col("value").sum()))
        frame = pl.concat([frame, monthly.select(list(schema))])
    return frame


def _levels(db: Session, first: dt.date, last: dt.date) -> pl.DataFrame:
    """Level changes from the risk history: each row against the row before it for the same entity.

    Only a move from one graded level to another counts: the score's first grading of a level that
    came from an import (or from nowhere) is a change of method, not of the entity's risk."""
    stmt = (select(RiskHistory.entity_id, cast(RiskHistory.valid_from, String), RiskHistory.value,
                   RiskHistory.source)
            .where(RiskHistory.valid_from <= last).order_by(RiskHistory.entity_id, RiskHistory.valid_from,
                                                            RiskHistory.id))
    frame = select_frame(db, stmt, {"entity_id": pl.Int64, "changed_on": pl.Utf8, "level_to": pl.Utf8,
                                    "source": pl.Utf8})
    graded = pl.col("source").shift(1).over("entity_id").is_in(GRADED)
    return (frame.with_columns(pl.col("changed_on").str.slice(0, 10).str.to_date(),
                               pl.col("level_to").shift(1).over("entity_id").alias("level_from"))
            .filter(pl.col("changed_on") >= first, pl.col("level_from").is_not_null(), graded)
            .drop("source"))


def frames(db: Session, *, first: dt.date, last: dt.date, active: Sequence[RuleSpec]) -> dict[str, pl.DataFrame]:
    """Every frame the rules need to decide each day from ``first`` to ``last``."""
    def since(origin: str) -> dt.date:
        return first - dt.timedelta(days=_reach(active, origin))

    return {"readings": _readings(db, since("readings"), last), "events": _events(db, since("events"), last),
            "attributes": _attributes(db, last), "periods": _periods(db, since("periods"), last),
            "levels": _levels(db, since("levels"), last)}


# --------------------------------------------------------------------------- back-test


def outcomes(db: Session, *, first: dt.date, last: dt.date) -> pl.DataFrame:
    """What a warning should have come before: an inspection that found problems, or an incident."""
    schema = {"entity_id": pl.Int64, "occurred_on": pl.Utf8, "kind": pl.Utf8}
    failed = (select(Inspection.entity_id, cast(Inspection.scheduled_on, String), literal("inspection_failed"))
              .where(Inspection.result == "problems", Inspection.scheduled_on >= first,
                     Inspection.scheduled_on <= last))
    incidents = (select(Incident.entity_id, cast(Incident.occurred_on, String), literal("incident"))
                 .where(Incident.withdrawn_reason == "", Incident.occurred_on >= first, Incident.occurred_on <= last))
    frame = pl.concat([select_frame(db, q, schema) for q in (failed, incidents)])
    return frame.with_columns(pl.col("occurred_on").str.slice(0, 10).str.to_date())


def backtest(db: Session, *, rule: RuleSpec, end: dt.date, days: int = 90) -> evaluate.Backtest:
    """How many warnings the rule would have raised in the ``days`` before ``end``, and how many days
    ahead of a failed inspection or an incident (within 30 days) they came."""
    if days < 1 or days > 366:
        raise Invalid("days", N_("A back-test covers 1 to 366 days."))
    start = end - dt.timedelta(days=days - 1)
    data = frames(db, first=start, last=end, active=[rule])
    return evaluate.backtest(rule, start=start, end=end, readings=data["readings"], events=data["events"],
                             attributes=data["attributes"], periods=data["periods"], levels=data["levels"],
                             outcomes=outcomes(db, first=start, last=end + dt.timedelta(days=30)))
