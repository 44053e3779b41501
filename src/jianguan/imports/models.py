"""An import batch: who imported which file, how it went, and where its problem report lies."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, Record, UTCDateTime


class ImportBatch(Record, Base):
    """One uploaded file. ``processed``/``total`` drive the progress bar (page polls every second)."""

    __tablename__ = "import_batches"

    kind: Mapped[str] = mapped_column(String(32), index=True)  # entities / officers
    source_system: Mapped[str] = mapped_column(String(60), default="")
    as_of: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    mode: Mapped[str] = mapped_column(String(16), default="all_or_nothing")  # or valid_rows
    status: Mapped[str] = mapped_column(String(16), default="previewed", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    warning_rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    report_path: Mapped[str] = mapped_column(String(500), default="")
    rejected_path: Mapped[str] = mapped_column(String(500), default="")
