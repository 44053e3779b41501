"""Notifications shown in the app, what each person wants by which channel, the outbox of messages
to deliver outside the app, and the record of scheduled job runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.core.crypto import EncryptedString
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


class NotificationPreference(IdMixin, Base):
    """One person's choice of channels for one kind (or ``*``: every kind not chosen one by one).

    Only choices that differ from the defaults in notify/data/kinds.yaml are stored, so a changed
    default reaches everyone who never chose otherwise.
    """

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_kind"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))  # a kind, a kinds.yaml pattern such as "*.escalated", or "*"
    in_app: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=False)
    sms: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxStatus:
    """pending: not tried yet; failed: tried, waiting for its next attempt; sent; dead: given up."""

    pending = "pending"
    failed = "failed"
    sent = "sent"
    dead = "dead"
    ALL = ("pending", "failed", "sent", "dead")
    DUE = ("pending", "failed")


class OutboxMessage(IdMixin, Base):
    """A message to deliver by e-mail or SMS, written in the same transaction as the notification and
    rendered then in the recipient's language; the worker delivers it and retries with backoff."""

    __tablename__ = "notification_outbox"
    # The drain: due rows of one channel, oldest attempt first.
    __table_args__ = (Index("ix_notification_outbox_due", "status", "channel", "next_attempt_at"),)

    channel: Mapped[str] = mapped_column(String(16))  # email | sms
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True)  # None when in-app is off
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    # Personal data either way (a phone or an e-mail address): encrypted at rest.
    address: Mapped[str] = mapped_column(EncryptedString())
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class JobRun(IdMixin, Base):
    """One attempt to run a scheduled job: ok, skipped (locked elsewhere), failed, or still running."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running | ok | skipped | failed
    message: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(200), default="")  # hostname:pid of the worker
