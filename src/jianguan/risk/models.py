"""Risk scores and what feeds them, warning rules and the warnings they raise, incidents, and the
learned pre-screening model's versions.

A score row keeps only the indicator values that were not zero and the rule-set version that weighed
them: the explanation (each indicator's points and contribution) is recomputed from those, so a score
can be explained and replayed later (DESIGN §5) without storing every contribution of every entity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, IdMixin, Record, UTCDateTime, utcnow


class ScoreRuleSet(Record, Base):
    """One version of the score's indicators, weights and level thresholds (``risk/data/score_rules.yaml``)."""

    __tablename__ = "risk_score_rule_sets"
    __table_args__ = (UniqueConstraint("code", "number"),)

    code: Mapped[str] = mapped_column(String(40))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(Text, default="")
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RiskScore(IdMixin, Base):
    """An entity's score as of ``scored_at``; a new row only when the score or level moved, so the rows of
    one entity are its score history and the latest is its current score."""

    __tablename__ = "risk_scores"
    __table_args__ = (Index("ix_risk_scores_entity_scored", "entity_id", "scored_at"),
                      Index("ix_risk_scores_current_score", "current", "score"))

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    level: Mapped[str] = mapped_column(String(8), index=True)  # red / yellow / blue
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("risk_score_rule_sets.id"))
    indicator_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # non-zero ones only
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("risk_incidents.id"))  # red by an incident
    current: Mapped[bool] = mapped_column(default=True)  # the entity's latest row: lists sort by it


class Incident(Record, Base):
    """事件登记: a major accident, a serious environmental violation or a data breach. While it is in force
    the entity is red whatever its score; it also counts as an indicator for three years."""

    __tablename__ = "risk_incidents"

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # incident_kind
    severity: Mapped[str] = mapped_column(String(16))  # major / serious / general
    occurred_on: Mapped[dt.date] = mapped_column(Date, index=True)
    red_until: Mapped[dt.date | None] = mapped_column(Date)  # the override's end (None: no override)
    source: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")  # recorded in error: kept, not deleted


class Reading(IdMixin, Base):
    """A sensor / IoT reading, kept compact: time, entity, metric, value, unit."""

    __tablename__ = "risk_readings"
    __table_args__ = (Index("ix_risk_readings_entity_metric_at", "entity_id", "metric", "measured_at"),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(32))
    measured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    value: Mapped[float] = mapped_column(Float)  # a measurement, not money
    unit: Mapped[str] = mapped_column(String(16), default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class FeedRecord(IdMixin, Base):
    """A row of a data feed: a sampling test (抽检), a public-opinion item (舆情), work-safety data (drills,
    training, fire-protection status, equipment inspection dates, hidden-danger reports), declared
    figures for cross-checks (output, subsidies, headcount, revenue) and imported tax credit."""

    __tablename__ = "risk_feed_records"
    __table_args__ = (Index("ix_risk_feed_entity_kind_on", "entity_id", "kind", "occurred_on"),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # feed_kind
    category: Mapped[str] = mapped_column(String(40), default="")
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(24), default="")  # pass / fail / missed / fault / open …
    period: Mapped[str] = mapped_column(String(16), default="")  # 2026-10, 2026Q3: declared figures
    metric: Mapped[str] = mapped_column(String(32), default="")
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # e.g. the next equipment inspection
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # product, item, lab, headline, url …
    source: Mapped[str] = mapped_column(String(60), default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class WarningRule(Record, Base):
    """One version of a warning rule (structured data, validated by ``risk.rules``)."""

    __tablename__ = "risk_warning_rules"
    __table_args__ = (UniqueConstraint("code", "version_number"),)

    code: Mapped[str] = mapped_column(String(24), index=True)
    version_number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    domain: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Warning(WorkflowMixin, Record, Base):
    """预警: raised by a rule for an entity and routed to the agency of its region and the rule's domain."""

    __tablename__ = "risk_warnings"
    __table_args__ = (Index("ix_risk_warnings_rule_entity_fired", "rule_code", "entity_id", "fired_on"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)  # YJ2026000001
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("risk_warning_rules.id"))
    rule_code: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    domain: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(8), index=True)
    fired_on: Mapped[dt.date] = mapped_column(Date, index=True)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    disposition: Mapped[str] = mapped_column(String(16), default="")  # inspection / case / false_alarm / other
    disposition_ref: Mapped[str] = mapped_column(String(60), default="")  # inspection:12, case:3
    reason: Mapped[str] = mapped_column(Text, default="")  # why a false alarm, what was done
    feedback: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LearnedModel(Record, Base):
    """One trained version of the pre-screening model with its stored evaluation. ``usable_for_draws``
    is set only when its measured lift beats the rule score's on the same held-out inspections."""

    __tablename__ = "risk_learned_models"

    number: Mapped[int] = mapped_column(unique=True)
    algorithm: Mapped[str] = mapped_column(String(60))
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trained_from: Mapped[dt.date] = mapped_column(Date)
    trained_to: Mapped[dt.date] = mapped_column(Date)  # the split: tested on inspections after this day
    tested_to: Mapped[dt.date] = mapped_column(Date)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # auc, lifts, curves
    usable_for_draws: Mapped[bool] = mapped_column(default=False)
    file_sha256: Mapped[str] = mapped_column(String(64), default="")  # the fitted model in the evidence store
    trained_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


from jianguan.risk.credit_models import CreditProposal  # noqa: E402, F401  (credit feedback, risk/credit.py)
