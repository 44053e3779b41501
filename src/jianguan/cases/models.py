"""Penalty cases (行政处罚案件): one record from the lead (案源登记) to the archive, on the case workflow,
with the people, evidence, preservations, suspensions, payments and challenges that belong to it.

Money is Decimal yuan to the fen (Numeric(14, 2)); dates are Shanghai calendar dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, IdMixin, Record, UTCDateTime

MONEY = Numeric(14, 2)


class Case(WorkflowMixin, Record, Base):
    __tablename__ = "cases"

    code: Mapped[str] = mapped_column(String(48), unique=True)  # <agency>-AY<year>-000001
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    party_name: Mapped[str] = mapped_column(String(200))
    party_kind: Mapped[str] = mapped_column(String(16), default="organisation")  # organisation / person
    party_address: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(300))  # 案由
    procedure: Mapped[str] = mapped_column(String(16), default="general")  # general / simple (当场处罚)
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

    # The proposal (拟处罚) with the discretion engine's suggestion frozen as it was given.
    case_facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    proposed_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    proposed_fine: Mapped[Decimal | None] = mapped_column(MONEY)
    proposed_confiscation: Mapped[Decimal | None] = mapped_column(MONEY)  # 没收违法所得
    # The suggestion's figures as columns, for the consistency analytics over a million cases.
    tier: Mapped[str] = mapped_column(String(16), default="", index=True)
    legal_low: Mapped[Decimal | None] = mapped_column(MONEY)
    legal_high: Mapped[Decimal | None] = mapped_column(MONEY)
    suggested_low: Mapped[Decimal | None] = mapped_column(MONEY)
    suggested_high: Mapped[Decimal | None] = mapped_column(MONEY)
    deviation: Mapped[bool] = mapped_column(default=False)  # outside the suggested range
    deviation_reason: Mapped[str] = mapped_column(Text, default="")
    deviation_cleared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # 调查终结 → 审核 → 集体讨论
    findings: Mapped[str] = mapped_column(Text, default="")  # the facts found (调查终结报告)
    reported_on: Mapped[dt.date | None] = mapped_column(Date)
    review_received_on: Mapped[dt.date | None] = mapped_column(Date)  # the file reached the reviewer
    major: Mapped[bool] = mapped_column(default=False)  # SAMR 程序规定第五十条: 法制审核 + 集体讨论
    major_grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_opinion: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    discussed_on: Mapped[dt.date | None] = mapped_column(Date)
    discussion_minutes: Mapped[str] = mapped_column(Text, default="")

    # 告知 → 陈述申辩 / 听证
    notice_served_on: Mapped[dt.date | None] = mapped_column(Date)
    noticed_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    noticed_fine: Mapped[Decimal | None] = mapped_column(MONEY)
    noticed_confiscation: Mapped[Decimal | None] = mapped_column(MONEY)
    hearing_right: Mapped[bool] = mapped_column(default=False)
    statement: Mapped[str] = mapped_column(Text, default="")
    statement_on: Mapped[dt.date | None] = mapped_column(Date)
    rights_waived: Mapped[bool] = mapped_column(default=False)  # in writing, before the 5 days ran out
    hearing_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    hearing_on: Mapped[dt.date | None] = mapped_column(Date)
    hearing_notice_on: Mapped[dt.date | None] = mapped_column(Date)
    hearing_held_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_extended: Mapped[bool] = mapped_column(default=False)

    # 决定 → 送达 → 执行 → 结案 → 归档
    outcome: Mapped[str] = mapped_column(String(16), default="")  # penalty / no_penalty / transfer
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    decision_fine: Mapped[Decimal | None] = mapped_column(MONEY)
    decision_confiscation: Mapped[Decimal | None] = mapped_column(MONEY)
    decision_number: Mapped[str] = mapped_column(String(60), default="", index=True)
    served_on: Mapped[dt.date | None] = mapped_column(Date)  # the date on the receipt (送达回证)
    service_method: Mapped[str] = mapped_column(String(32), default="")
    payment_due_on: Mapped[dt.date | None] = mapped_column(Date)
    deferral: Mapped[str] = mapped_column(Text, default="")  # 暂缓或者分期缴纳, as approved
    enforcement_applied_on: Mapped[dt.date | None] = mapped_column(Date)
    executed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    archived_on: Mapped[dt.date | None] = mapped_column(Date)
    typical: Mapped[bool] = mapped_column(default=False)  # 典型案例
    typical_summary: Mapped[str] = mapped_column(Text, default="")

    officers: Mapped[list[CaseOfficer]] = relationship(cascade="all, delete-orphan", order_by="CaseOfficer.id")
    evidence: Mapped[list[CaseEvidence]] = relationship(cascade="all, delete-orphan", order_by="CaseEvidence.id")
    preservations: Mapped[list[CasePreservation]] = relationship(cascade="all, delete-orphan",
                                                                 order_by="CasePreservation.id")
    suspensions: Mapped[list[CaseSuspension]] = relationship(cascade="all, delete-orphan",
                                                             order_by="CaseSuspension.id")
    payments: Mapped[list[CasePayment]] = relationship(cascade="all, delete-orphan", order_by="CasePayment.id")
    challenges: Mapped[list[CaseChallenge]] = relationship(cascade="all, delete-orphan",
                                                           order_by="CaseChallenge.id")


class CaseOfficer(IdMixin, Base):
    """承办人: at least two officers, each with a credential valid on the day they were assigned."""

    __tablename__ = "case_officers"
    __table_args__ = (UniqueConstraint("case_id", "officer_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    credential_number: Mapped[str] = mapped_column(String(32))
    lead: Mapped[bool] = mapped_column(default=False)  # 主办人


class CaseEvidence(IdMixin, Base):
    """An evidence item stored by hash (书证, 照片, 询问笔录, 现场笔录 …)."""

    __tablename__ = "case_evidence"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # EVIDENCE_KINDS in service
    title: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))  # 询问笔录 / 现场笔录
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    collected_on: Mapped[dt.date] = mapped_column(Date)
    collected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CasePreservation(IdMixin, Base):
    """先行登记保存: the handling must be decided within 7 working days (行政处罚法第五十六条)."""

    __tablename__ = "case_preservations"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    items: Mapped[str] = mapped_column(Text)
    preserved_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_unconfirmed: Mapped[bool] = mapped_column(default=False)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    handling: Mapped[str] = mapped_column(Text, default="")  # 解除 / 没收 / 移送 …


class CaseSuspension(IdMixin, Base):
    """Time not counted in the 90-day decision period: hearing, testing, expert opinion, public notice."""

    __tablename__ = "case_suspensions"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(24))  # SUSPENSION_REASONS in service
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class CasePayment(IdMixin, Base):
    """A payment received (罚款、没收违法所得、加处罚款), in yuan to the fen."""

    __tablename__ = "case_payments"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    surcharge: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    receipt: Mapped[str] = mapped_column(String(60), default="")  # the bank or non-tax receipt number
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CaseChallenge(IdMixin, Base):
    """行政复议 or 行政诉讼 against the decision, and how it ended."""

    __tablename__ = "case_challenges"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # review / lawsuit
    filed_on: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(String(200), default="")  # the review organ or court
    outcome: Mapped[str] = mapped_column(String(24), default="", index=True)  # CHALLENGE_OUTCOMES
    outcome_reason: Mapped[str] = mapped_column(String(24), default="")  # CHALLENGE_REASONS
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class DiscretionRuleVersion(Record, Base):
    """A version of a discretion rule written in the rule editor or imported from Excel: a draft until a
    legal reviewer or leader other than its author approves it; then the engine uses it beside the
    shipped rules (by its dates in force)."""

    __tablename__ = "discretion_rules"
    __table_args__ = (UniqueConstraint("code", "number"),)

    code: Mapped[str] = mapped_column(String(32), index=True)
    number: Mapped[int]  # the rule's version number (``version`` is the row's lock counter)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # draft / approved / rejected
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32), default="editor")  # editor / import:<batch>
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
