"""Complaints and tips (投诉举报) from the public, hotline (12345 转办) and other systems (Open311).

What the complainant wrote and who they are is restricted data: encrypted at rest, masked outside the
handling agency, every read by staff audited. The complainant follows the complaint with its tracking
number and a secret access code (only its hash is kept)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.core.crypto import EncryptedString
from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, Record, UTCDateTime


class Complaint(WorkflowMixin, Record, Base):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_entity_category", "entity_id", "category", "received_on"),
                      Index("ix_complaints_cell_received", "cell", "received_on"),
                      Index("ix_complaints_ip_created", "ip_hash", "created_at"))

    number: Mapped[str] = mapped_column(String(24), unique=True)  # TS20261207000001
    access_hash: Mapped[str] = mapped_column(String(64))  # sha256 of number + access code
    kind: Mapped[str] = mapped_column(String(16), default="complaint")  # complaint 投诉 / tip 举报
    channel: Mapped[str] = mapped_column(String(16))  # web / hotline / api / import
    external_ref: Mapped[str] = mapped_column(String(60), default="")  # the hotline's or client's own id
    category: Mapped[str] = mapped_column(String(32), index=True)  # complaint_category
    content: Mapped[str] = mapped_column(EncryptedString())
    complainant_name: Mapped[str | None] = mapped_column(EncryptedString())
    complainant_phone: Mapped[str | None] = mapped_column(EncryptedString())
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # keyed hash: repeats found by it
    ip_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the sender's address: floods throttled
    anonymous: Mapped[bool] = mapped_column(default=False)
    party_name: Mapped[str] = mapped_column(String(200), default="")  # whom it is about, as written
    party_uscc: Mapped[str] = mapped_column(String(18), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    cell: Mapped[int | None] = mapped_column(BigInteger)  # ~500 m grid square (service.cell_of): "near", no scan
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    match_score: Mapped[float | None] = mapped_column(Float)  # how sure the entity match is (0–100)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    routed_by: Mapped[str] = mapped_column(String(60), default="")  # the routing rule, or "manual"
    transfers: Mapped[int] = mapped_column(default=0)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    rejected_reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(24), default="")  # inspection / case / mediation / no_violation
    outcome_ref: Mapped[str] = mapped_column(String(60), default="")  # inspection:12, case:3
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None]  # 1–5, by the complainant
    reopened: Mapped[bool] = mapped_column(default=False)
    master_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)  # merged into
    flagged: Mapped[str] = mapped_column(String(24), default="")  # malicious / repeated (kept, not discarded)


class JointTask(WorkflowMixin, Record, Base):
    """联合检查 (进一次门、查多项事): one visit to one entity by several departments. Each department keeps
    its own inspection (its own checklist, answers and findings) linked here; the burden index counts
    the visit once. ``agency_id`` is the lead agency (who schedules and closes it)."""

    __tablename__ = "joint_tasks"

    code: Mapped[str] = mapped_column(String(32), unique=True)  # LH2026000001
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)  # the lead
    agency_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # every department taking part
    agreed_agency_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # who has agreed to join
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # the overlapping items that led to it
    scheduled_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="manual")  # overlap / manual
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AssistRequest(WorkflowMixin, Record, Base):
    """跨区域协查: one agency asks another (usually of another region) to inspect or assist, with a
    deadline; the other accepts or declines with a reason, then answers with its result. ``agency_id``
    is the agency asked (it acts on the request); ``requested_by_agency_id`` the one asking."""

    __tablename__ = "assist_requests"

    code: Mapped[str] = mapped_column(String(32), unique=True)  # XC2026000001
    kind: Mapped[str] = mapped_column(String(16))  # inspect 协查 / assist 协助
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    requested_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)  # the region asked
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    party_name: Mapped[str] = mapped_column(String(200), default="")  # when not in the registry
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    wanted_by: Mapped[dt.date | None] = mapped_column(Date)  # the result is asked for by
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)  # the answer period runs from it
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    result_ref: Mapped[str] = mapped_column(String(60), default="")  # the inspection code that answered it
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
