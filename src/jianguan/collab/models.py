"""Complaints and tips (投诉举报) from the public, hotline (12345 转办) and other systems (Open311).

What the complainant wrote and who they are is restricted data: encrypted at rest, masked outside the
handling agency, every read by staff audited. The complainant follows the complaint with its tracking
number and a secret access code (only its hash is kept)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.core.crypto import EncryptedString
from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, Record, UTCDateTime


class Complaint(WorkflowMixin, Record, Base):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_entity_category", "entity_id", "category", "received_on"),
                      Index("ix_complaints_cell_received", "cell", "received_on"))

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
