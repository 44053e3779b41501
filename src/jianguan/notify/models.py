"""Notifications shown in the app, and the record of scheduled job runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, IdMixin, utcnow


class Notification(IdMixin, Base):
    """One message to one user. ``title``/``body`` are message ids (or plain text) with ``params``.

    Kept untranslated so each reader sees it in their own language; a param whose key ends in
    ``_label`` is itself a message id and is translated too.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "workflow.escalation"
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None]


class JobRun(IdMixin, Base):
    """One attempt to run a scheduled job: ok, skipped (locked elsewhere), failed, or still running."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running | ok | skipped | failed
    message: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(200), default="")  # hostname:pid of the worker
