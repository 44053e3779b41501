"""The audit chain (each row carries the hash of its content and the previous row's hash) and the
index of evidence files (the files themselves live in the evidence store, named by their SHA-256)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Float, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, IdMixin, utcnow


class AuditEntry(IdMixin, Base):
    """One append-only row. Never updated or deleted; ``jianguan audit verify`` proves it."""

    __tablename__ = "audit_log"

    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)  # no FK: the log outlives accounts
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[str | None] = mapped_column(String(80), index=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # never restricted values
    algorithm: Mapped[str] = mapped_column(String(8))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the chain's tail. Locking it serialises appends; comparing it detects a cut tail."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    appends: Mapped[int] = mapped_column(default=0)


class EvidenceFile(IdMixin, Base):
    """One upload of an evidence file (证据). Several uploads of the same content share one stored file.

    Immutable like the audit log: no version, no update. Scoped by the uploader's agency and region
    at upload time, so ``auth.scope.visible`` decides who may read it.
    """

    __tablename__ = "evidence_files"

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_by_name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # Where and when the evidence was taken (on-site photos), as the device reported it.
    taken_at: Mapped[dt.datetime | None]
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    audit_entry_id: Mapped[int | None] = mapped_column(Integer)  # the chain entry recording the upload


class EvidenceFrame(IdMixin, Base):
    """A key frame of a stored video (JPEG in the evidence store), for the thumbnail timeline; derived
    from the video by ffmpeg, so it can always be made again from the video itself."""

    __tablename__ = "evidence_frames"
    __table_args__ = (UniqueConstraint("video_sha256", "position"),)

    video_sha256: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int]
    at_seconds: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    sha256: Mapped[str] = mapped_column(String(64))
