"""The outbox: messages to deliver outside the app, written with the notification, delivered later.

``enqueue`` runs inside ``notify.send`` (the request's transaction): it only writes rows, never
touches the network. ``drain`` runs in the worker (job ``notify.outbox``, every minute) or from
``jianguan notify drain``: it takes due rows in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
on SQLite the job lock serialises), delivers each through its channel, and marks it sent, or failed
with the next attempt after a backoff, or dead after the last attempt. Delivery is at least once:
a worker killed mid-batch sends that batch's delivered messages again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.config import get_settings
from jianguan.core.errors import Conflict, Forbidden, NotFound
from jianguan.core.i18n import N_, gettext
from jianguan.core.masking import mask_phone
from jianguan.db import utcnow
from jianguan.notify.channels import Channel, ChannelUnavailable, Message, configured
from jianguan.notify.models import OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from jianguan.auth.models import User

# Wait after the 1st, 2nd, … failed attempt; after the last one the message is dead (a dead letter).
BACKOFF: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
    dt.timedelta(hours=2), dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
BATCH_SIZE = 50
RUN_LIMIT = 2000  # messages per run at most, so one run ends and the next minute's starts
SENT_RETENTION_DAYS = 90
SMS_MAX_CHARS = 300


def backoff(failed_attempts: int) -> dt.timedelta | None:
    """How long to wait after ``failed_attempts`` failures; None when there is no next attempt."""
    if failed_attempts < 1:
        raise ValueError("at least one attempt has failed before a backoff")
    return BACKOFF[failed_attempts - 1] if failed_attempts <= len(BACKOFF) else None


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Recipient:
    user_id: int
    locale: str
    notification_id: int | None
    addresses: dict[str, str]  # channel -> address, only the channels to send by


def render(channel: str, *, title: str, body: str, link: str, locale: str) -> tuple[str, str]:
    """Subject and text of one message, from the notification's already translated title and body."""
    if channel == "sms":
        text = gettext(N_("{title}: {body}"), locale, title=title, body=body) if body else title
        return title[:300], text[:SMS_MAX_CHARS]
    base = get_settings().base_url.rstrip("/")
    parts = [body or title]
    if link.startswith("/") and not link.startswith("//"):
        parts.append(gettext(N_("Open: {url}"), locale, url=base + link))
    parts.append("—\n" + gettext(
        N_("An automatic message from the supervision platform; please do not reply. Choose which "
           "notifications reach you by e-mail at {url}"), locale, url=f"{base}/notifications/preferences"))
    return gettext(N_("[Supervision platform] {title}"), locale, title=title)[:300], "\n\n".join(parts)


def enqueue(
    db: Session,
    *,
    kind: str,
    recipients: Iterable[Recipient],
    localize: Callable[[str], tuple[str, str]],
    link: str,
) -> list[OutboxMessage]:
    """One pending row per recipient and channel; ``localize(locale)`` gives title and body."""
    rendered: dict[str, tuple[str, str]] = {}
    rows: list[OutboxMessage] = []
    for r in recipients:
        if r.locale not in rendered:
            rendered[r.locale] = localize(r.locale)
        title, body = rendered[r.locale]
        for channel, address in r.addresses.items():
            subject, text = render(channel, title=title, body=body, link=link, locale=r.locale)
            rows.append(OutboxMessage(channel=channel, notification_id=r.notification_id, user_id=r.user_id,
                                      kind=kind, address=address, subject=subject, body=text,
                                      status=OutboxStatus.pending, attempts=0, last_error=""))
    db.add_all(rows)
    return rows


# --------------------------------------------------------------------------- draining


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    deferred: int = 0  # not tried this run: their channel was unavailable
    waiting: dict[str, int] = field(default_factory=dict)  # left due: channel not configured or unavailable
    unavailable: dict[str, str] = field(default_factory=dict)  # channel -> why

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "retrying": self.retrying, "dead": self.dead, "deferred": self.deferred,
                "waiting": self.waiting, "unavailable": self.unavailable}


def _due(db: Session, channels: Sequence[str], now: dt.datetime, limit: int) -> list[OutboxMessage]:
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(OutboxStatus.DUE), OutboxMessage.channel.in_(list(channels)),
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.scalars(stmt).all())


def due_count(db: Session, channels: Sequence[str] | None = None, now: dt.datetime | None = None) -> int:
    stmt = select(func.count()).where(OutboxMessage.status.in_(OutboxStatus.DUE),
                                      OutboxMessage.next_attempt_at <= (now or utcnow()))
    if channels is not None:
        stmt = stmt.where(OutboxMessage.channel.in_(list(channels)))
    return int(db.scalar(stmt) or 0)


def _message(row: OutboxMessage) -> Message:
    return Message(id=row.id, channel=row.channel, address=row.address, subject=row.subject, body=row.body,
                   kind=row.kind, user_id=row.user_id)


def _failed(row: OutboxMessage, error: BaseException, now: dt.datetime) -> None:
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    wait = backoff(row.attempts)
    if wait is None:
        row.status = OutboxStatus.dead
    else:
        row.status, row.next_attempt_at = OutboxStatus.failed, now + wait


def deliver_batch(
    db: Session,
    *,
    channels: Mapping[str, Channel],
    result: DrainResult,
    limit: int = BATCH_SIZE,
    now: Callable[[], dt.datetime] = utcnow,
    on_message: Callable[[OutboxMessage], None] | None = None,
) -> int:
    """Deliver up to ``limit`` due messages of the usable channels; returns how many were taken.

    One message's failure is recorded on it and the batch goes on. A channel that reports itself
    unavailable is left alone for the rest of the run (its messages are deferred, not failed).
    """
    usable = [c for c in channels if c not in result.unavailable]
    if not usable:
        return 0
    rows = _due(db, usable, now(), limit)
    for row in rows:
        if row.channel in result.unavailable:
            result.deferred += 1
        else:
            try:
                channels[row.channel].deliver(_message(row))
            except ChannelUnavailable as exc:
                result.unavailable[row.channel] = str(exc)[:500]
                _failed(row, exc, now())
                _count(result, row)
            except Exception as exc:  # whatever a gateway raises: this message only
                _failed(row, exc, now())
                _count(result, row)
            else:
                row.status, row.sent_at, row.last_error = OutboxStatus.sent, now(), ""
                row.attempts += 1
                result.sent += 1
        if on_message is not None:
            on_message(row)
    db.flush()
    return len(rows)


def _count(result: DrainResult, row: OutboxMessage) -> None:
    if row.status == OutboxStatus.dead:
        result.dead += 1
    else:
        result.retrying += 1


def drain(
    db: Session,
    *,
    channels: Mapping[str, Channel] | None = None,
    batch_size: int = BATCH_SIZE,
    limit: int = RUN_LIMIT,
    after_batch: Callable[[], None] | None = None,
    on_message: Callable[[OutboxMessage], None] | None = None,
    now: Callable[[], dt.datetime] = utcnow,
) -> DrainResult:
    """Deliver due messages batch by batch until none is due (or ``limit``); ``after_batch`` is the
    caller's commit, so a batch's outcome is kept even if a later batch is interrupted."""
    result = DrainResult()
    if channels is None:
        channels, result.unavailable = configured()
    taken = 0
    try:
        while taken < limit:
            n = deliver_batch(db, channels=channels, result=result, limit=min(batch_size, limit - taken),
                              now=now, on_message=on_message)
            if after_batch is not None:
                after_batch()
            taken += n
            if n == 0:
                break
    finally:
        for channel in channels.values():
            close = getattr(channel, "close", None)
            if callable(close):
                close()
    result.waiting = _waiting(db, exclude=[c for c in channels if c not in result.unavailable])
    return result


def _waiting(db: Session, *, exclude: Sequence[str]) -> dict[str, int]:
    stmt = (select(OutboxMessage.channel, func.count())
            .where(OutboxMessage.status.in_(OutboxStatus.DUE), OutboxMessage.channel.not_in(list(exclude)))
            .group_by(OutboxMessage.channel))
    return {str(c): int(n) for c, n in db.execute(stmt)}


# --------------------------------------------------------------------------- the operator's view


def _require_operator(actor: User | None) -> None:
    if actor is not None and not actor.is_system_admin:
        raise Forbidden()


def counts(db: Session, *, actor: User | None) -> dict[str, dict[str, int]]:
    """{channel: {status: n}} with every status present."""
    _require_operator(actor)
    found: dict[str, dict[str, int]] = {}
    stmt = select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
        OutboxMessage.channel, OutboxMessage.status)
    for channel, status, n in db.execute(stmt):
        found.setdefault(str(channel), dict.fromkeys(OutboxStatus.ALL, 0))[str(status)] = int(n)
    return dict(sorted(found.items()))


def totals(by_channel: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter(dict.fromkeys(OutboxStatus.ALL, 0))
    for statuses in by_channel.values():
        total.update(statuses)
    return {status: total[status] for status in OutboxStatus.ALL}


def list_messages(
    db: Session, *, actor: User | None, status: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[OutboxMessage], int]:
    """Newest first; with ``status`` only those (e.g. the dead letters)."""
    _require_operator(actor)
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = db.scalars(stmt.order_by(OutboxMessage.id.desc()).offset(offset).limit(min(limit, 500))).all()
    return list(rows), total


def mask_address(channel: str, address: str) -> str:
    """138****8000, or z***@example.gov.cn: enough to tell whose, not to copy."""
    if channel == "sms":
        return mask_phone(address) or ""
    name, at, domain = address.partition("@")
    return f"{name[:1]}***{at}{domain}" if at else "***"


def shown_error(message: OutboxMessage) -> str:
    """The last error as operators see it: a server's reply often repeats the address, masked here too."""
    if not message.last_error or not message.address:
        return message.last_error
    return message.last_error.replace(message.address, mask_address(message.channel, message.address))


def retry(
    db: Session, *, actor: User | None, message_id: int | None = None, all_dead: bool = False
) -> int:
    """Requeue one failed or dead message (or every dead one) for delivery now, with a full set of
    attempts. The error it last had is kept until it is tried again."""
    _require_operator(actor)
    now = utcnow()
    if all_dead:
        ids = list(db.scalars(select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.dead)).all())
    else:
        row = db.get(OutboxMessage, message_id) if message_id is not None else None
        if row is None:
            raise NotFound()
        if row.status not in (OutboxStatus.dead, OutboxStatus.failed):
            raise Conflict(N_("Only a failed or dead message can be sent again; this one is {status}."),
                           status=row.status)
        ids = [row.id]
    if ids:
        db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                   .values(status=OutboxStatus.pending, attempts=0, next_attempt_at=now)
                   .execution_options(synchronize_session="fetch"))
        audit.record(db, actor=actor, action="notify.outbox.retry", object_type="outbox_message",
                     object_id=ids[0], payload={"ids": ids}, detail={"count": len(ids), "first_id": ids[0]})
    return len(ids)


def prune_sent(db: Session) -> dict[str, int]:
    """Forget delivered messages after the retention period (the notification itself stays)."""
    cutoff = utcnow() - dt.timedelta(days=SENT_RETENTION_DAYS)
    result = db.execute(delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.sent,
                                                    OutboxMessage.sent_at < cutoff))
    return {"deleted": int(result.rowcount or 0)}  # type: ignore[attr-defined]
