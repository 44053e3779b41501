"""Penalty cases (行政处罚案件). The first step of the lifecycle: a lead registered (案源登记) and the
decision to file (立案) or not (不予立案), with the limitation check at filing; the later steps
(investigation … archive) extend the same record and workflow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, Record


class Case(WorkflowMixin, Record, Base):
    __tablename__ = "cases"

    code: Mapped[str] = mapped_column(String(48), unique=True)  # <agency>-AY<year>-000001
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    party_name: Mapped[str] = mapped_column(String(200))
    party_kind: Mapped[str] = mapped_column(String(16), default="organisation")  # organisation / person
    title: Mapped[str] = mapped_column(String(300))  # 案由
    source_type: Mapped[str] = mapped_column(String(32))  # case_source value domain
    source_ref: Mapped[str] = mapped_column(String(60), default="")  # e.g. finding:12
    violation_code: Mapped[str] = mapped_column(String(32), default="")  # a discretion rule, when known
    facts: Mapped[str] = mapped_column(Text, default="")  # the lead as reported
    act_ended_on: Mapped[dt.date | None] = mapped_column(Date)  # when the act (or a continuing act) ended
    discovered_on: Mapped[dt.date] = mapped_column(Date)
    severe: Mapped[bool] = mapped_column(default=False)  # life, health, safety or finance, with harm (5 years)
    lead_on: Mapped[dt.date] = mapped_column(Date)
    filing_extended: Mapped[bool] = mapped_column(default=False)
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    not_filed_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
