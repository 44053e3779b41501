"""Tables of the cross-cutting core: the holiday-calendar overrides and workflow events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, IdMixin, TimestampMixin, utcnow


class CalendarOverride(IdMixin, TimestampMixin, Base):
    """One day's status where the State Council notice differs from (or goes beyond) the package."""

    __tablename__ = "calendar_overrides"

    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    is_working_day: Mapped[bool]
    name: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(200), default="")


class CalendarYear(IdMixin, TimestampMixin, Base):
    """A year whose holiday notice has been loaded: deadlines in it are no longer 'unconfirmed'."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(unique=True)
    source: Mapped[str] = mapped_column(String(200), default="")


class WorkflowEvent(IdMixin, Base):
    """One row per transition of any closed loop (inspections, cases, complaints, requests …)."""

    __tablename__ = "workflow_events"
    __table_args__ = (Index("ix_workflow_events_record", "record_type", "record_id"),)

    workflow: Mapped[str] = mapped_column(String(60), index=True)
    record_type: Mapped[str] = mapped_column(String(60))  # the record's table name
    record_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(60))  # a transition, "start" or "escalate"
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Username, or "public" / "system" when no one was signed in (a requester, the overdue scan).
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    payload_hash: Mapped[str] = mapped_column(String(64), default="")
    due_date: Mapped[dt.date | None] = mapped_column(Date)  # the deadline set by this step
