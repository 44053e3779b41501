"""Enforcement documents (执法文书): the number, the facts frozen when the document was issued, and the
files rendered from them; per-agency numbering counters, replaceable templates, the seal and the
officers' signature images."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, IdMixin, Record, TimestampMixin, UTCDateTime


class Document(Record, Base):
    """One issued document. ``context`` is what it says, fixed at issue (its hash is in the audit
    chain); the DOCX and PDF are rendered from it once and kept by hash. A voided document keeps its
    number: numbers are never reused."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("agency_id", "number"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    kind: Mapped[str] = mapped_column(String(48))  # documents/data/kinds.yaml
    series: Mapped[str] = mapped_column(String(16))  # the word in the number, e.g. 检通
    year: Mapped[int]
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(80))  # 西湖市监检通〔2026〕12号
    subject_type: Mapped[str] = mapped_column(String(32))  # inspection, finding, case …
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    issued_on: Mapped[dt.date]
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    context_sha256: Mapped[str] = mapped_column(String(64))
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    docx_template: Mapped[str] = mapped_column(String(64), default="")  # sha256 of the template used
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    pdf_template: Mapped[str] = mapped_column(String(64), default="")
    signer: Mapped[str] = mapped_column(String(300), default="")  # the certificate's subject
    rendered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    void_reason: Mapped[str] = mapped_column(Text, default="")
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DocumentCounter(IdMixin, Base):
    """The last number given per agency, series and year, advanced in the issuing transaction."""

    __tablename__ = "document_counters"
    __table_args__ = (UniqueConstraint("agency_id", "series", "year"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    series: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    last: Mapped[int] = mapped_column(default=0)


class DocumentTemplate(IdMixin, TimestampMixin, Base):
    """An agency's own template for a kind (DOCX for docxtpl, HTML for the PDF); the newest one is used.
    The file lives in the evidence store by hash."""

    __tablename__ = "document_templates"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    format: Mapped[str] = mapped_column(String(8))  # docx / html
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DocumentProfile(Record, Base):
    """How an agency's documents are headed and sealed: the issuing abbreviation (机关代字, e.g. 西湖市监)
    and the seal image (PNG in the evidence store)."""

    __tablename__ = "document_profiles"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    abbreviation: Mapped[str] = mapped_column(String(24))
    seal_sha256: Mapped[str | None] = mapped_column(String(64))


class OfficerSignature(Record, Base):
    """An officer's signature image (PNG in the evidence store), placed on the documents they sign."""

    __tablename__ = "officer_signatures"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
