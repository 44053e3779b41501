"""Publication records (公示): what will be shown on the public portal about a concluded inspection,
due within N working days of its conclusion (``JIANGUAN_PUBLICATION_WORKING_DAYS``, 10 by default)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, Record, UTCDateTime


class Publication(WorkflowMixin, Record, Base):
    """The public record of one result. ``content`` names the entity and the problems found, never a
    person: no officer names, no ID numbers, no phone numbers (domain-rules §3.1)."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("source_type", "source_id"),)

    source_type: Mapped[str] = mapped_column(String(32))  # inspection
    source_id: Mapped[int]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    concluded_on: Mapped[dt.date] = mapped_column(Date)
    working_days: Mapped[int]  # the period in force when the record was made
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withheld_reason: Mapped[str] = mapped_column(Text, default="")
