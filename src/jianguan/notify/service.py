"""Notifications: send (in the app, and by e-mail or SMS through the outbox), list, count unread,
mark read.

``send`` is the one call every domain makes. In the caller's transaction it writes the in-app
notification and, by each recipient's preferences (notify/kinds.py), one outbox row per external
channel with an address; the worker delivers those later. It never touches the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.config import get_settings
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_, gettext
from jianguan.db import utcnow
from jianguan.notify import outbox, preferences
from jianguan.notify.kinds import Channels
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
    """One notification per distinct user who keeps this kind in the app, outbox rows for the other
    channels they chose; one audit entry for the whole send. Returns the in-app notifications."""
    ids = sorted(set(user_ids))
    if not title.strip():
        raise Invalid("title", N_("A title is required."))
    if not ids:
        return []
    params = dict(params or {})
    wanted = preferences.channels_for(db, user_ids=ids, kind=kind)
    rows = [Notification(user_id=uid, kind=kind, title=title, body=body, link=link, params=params)
            for uid in ids if wanted[uid].in_app]
    db.add_all(rows)
    db.flush()
    by_user = {n.user_id: n.id for n in rows}
    queued = outbox.enqueue(
        db, kind=kind, link=link, recipients=_recipients(db, wanted, by_user),
        localize=lambda locale: render(title, body, params, locale))
    if not rows and not queued:
        return []
    db.flush()
    first_id = rows[0].id if rows else None
    audit.record(db, actor=actor, action="notify.send", object_type="notification", object_id=first_id,
                 payload={"kind": kind, "user_ids": ids, "title": title, "params": params},
                 detail={"kind": kind, "recipients": len(ids), "first_id": first_id, "in_app": len(rows),
                         "outbox": len(queued)})
    return rows


def _recipients(db: Session, wanted: dict[int, Channels], notification_ids: dict[int, int]) -> list[outbox.Recipient]:
    """Who gets something outside the app, with the addresses they have: a channel without an
    address (no e-mail, no phone) is skipped, never an error. Inactive accounts get nothing."""
    from jianguan.auth.models import User

    outside = [uid for uid, ch in wanted.items() if ch.external()]
    if not outside:
        return []
    default_locale = get_settings().default_locale
    need_phone = any(wanted[uid].sms for uid in outside)
    columns = [User.id, User.email, User.locale, User.is_active] + ([User.phone] if need_phone else [])
    found = []
    for row in db.execute(select(*columns).where(User.id.in_(outside)).order_by(User.id)):
        if not row.is_active:
            continue
        uid, email, locale = int(row.id), row.email, str(row.locale or default_locale)
        phone = row.phone if need_phone else None
        have = {"email": email, "sms": phone}
        addresses = {ch: str(have[ch]) for ch in wanted[uid].external() if have[ch]}
        if addresses:
            found.append(outbox.Recipient(uid, locale, notification_ids.get(uid), addresses))
    return found


def render(title: str, body: str, params: dict[str, Any], locale: str) -> tuple[str, str]:
    """Title and body in ``locale`` (``*_label`` params are message ids too)."""
    params = {k: gettext(v, locale) if k.endswith("_label") and isinstance(v, str) else v
              for k, v in (params or {}).items()}
    return gettext(title, locale, **params), gettext(body, locale, **params) if body else ""


def localize(note: Notification, locale: str) -> tuple[str, str]:
    """Title and body in the reader's language."""
    return render(note.title, note.body, note.params or {}, locale)


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
