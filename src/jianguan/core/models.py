"""Tables of the cross-cutting core: the holiday-calendar overrides and workflow events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text
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

    workflow: Mapped[str] = mapped_column(String(60), index=True)
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    payload_hash: Mapped[str] = mapped_column(String(64), default="")
