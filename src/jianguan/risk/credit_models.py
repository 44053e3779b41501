"""信用反馈建议: a proposed change of an entity's credit class, from its inspection and enforcement
outcomes, waiting for a leader's decision.

An entity has at most one open (``proposed``) row — the partial unique index makes a second
evaluation running at the same time fail rather than duplicate it. Decided rows stay as the record
of what was proposed, on which rule version, and who decided.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, BinaryString, Record, UTCDateTime

PROPOSED, ACCEPTED, REJECTED = "proposed", "accepted", "rejected"


class CreditProposal(Record, Base):
    """One proposal: current and proposed class, the points and their reasons, the rule version."""

    __tablename__ = "risk_credit_proposals"
    __table_args__ = (
        Index(
            "uq_risk_credit_proposals_open",
            "entity_id",
            unique=True,
            sqlite_where=text("state = 'proposed'"),
            postgresql_where=text("state = 'proposed'"),
        ),
        Index("ix_risk_credit_proposals_state_entity", "state", "entity_id"),
    )

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)  # scope: the entity's
    region_code: Mapped[str] = mapped_column(BinaryString(6), index=True)  # scope: the entity's
    current_class: Mapped[str | None] = mapped_column(String(2))  # when evaluated (None: never classed)
    proposed_class: Mapped[str] = mapped_column(String(2))
    points: Mapped[int]
    # {"events": [{"event", "label", "count", "points"}], "step": "<the mapping entry that applied>"}
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rule_version: Mapped[str] = mapped_column(String(32))  # CF-1
    evaluated_on: Mapped[dt.date] = mapped_column(Date)  # the last day of the window
    state: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
