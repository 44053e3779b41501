"""In-app notifications: send, list, count unread, mark read.

Delivery beyond the app (SMS, e-mail, government messaging platforms) goes through an outbox
table written in the same transaction and drained by a worker job — a later issue; ``send`` is
the one call domains make, so adding the outbox will not change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_, gettext
from jianguan.db import utcnow
from jianguan.notify.models import Notification

if TYPE_CHECKING:
    from jianguan.auth.models import User


def send(
    db: Session,
    *,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    params: dict[str, Any] | None = None,
    actor: User | None = None,
) -> list[Notification]:
    """One notification per distinct user; one audit entry for the whole send."""
    ids = sorted(set(user_ids))
    if not title.strip():
        raise Invalid("title", N_("A title is required."))
    rows = [
        Notification(user_id=uid, kind=kind, title=title, body=body, link=link, params=dict(params or {}))
        for uid in ids
    ]
    if not rows:
        return []
    db.add_all(rows)
    db.flush()
    audit.record(db, actor=actor, action="notify.send", object_type="notification",
                 object_id=rows[0].id,
                 payload={"kind": kind, "user_ids": ids, "title": title, "params": params},
                 detail={"kind": kind, "recipients": len(ids), "first_id": rows[0].id})
    return rows


def localize(note: Notification, locale: str) -> tuple[str, str]:
    """Title and body in the reader's language (``*_label`` params are message ids too)."""
    params = {k: gettext(v, locale) if k.endswith("_label") and isinstance(v, str) else v
              for k, v in (note.params or {}).items()}
    return gettext(note.title, locale, **params), gettext(note.body, locale, **params) if note.body else ""


def unread_count(db: Session, user: User) -> int:
    stmt = select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    return int(db.scalar(stmt) or 0)


def list_for(
    db: Session, user: User, *, unread_only: bool = False, offset: int = 0, limit: int = 50
) -> tuple[list[Notification], int]:
    """The user's own notifications, newest first, and how many there are in all."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = db.scalars(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(offset)
        .limit(min(limit, 500))
    ).all()
    return list(rows), total


def mark_read(db: Session, *, notification_id: int, actor: User) -> Notification:
    """Mark one of the actor's notifications read (someone else's is reported as missing).

    Not audited: whether a person has opened a message is their own UI state, not a record.
    """
    note = db.get(Notification, notification_id)
    if note is None or note.user_id != actor.id:
        raise NotFound()
    if note.read_at is None:
        note.read_at = utcnow()
        db.flush()
    return note


def mark_all_read(db: Session, *, actor: User) -> int:
    result = db.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
