"""Each person's choice of channels per kind of notification (通知设置), and their own e-mail address.

Only choices that differ from the defaults of notify/data/kinds.yaml are stored; saving the
defaults again removes the row, so a later change of a default reaches that person too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.db import utcnow
from jianguan.notify import kinds
from jianguan.notify.kinds import Channels
from jianguan.notify.models import NotificationPreference

if TYPE_CHECKING:
    from jianguan.auth.models import User


def stored(
    db: Session, *, user_ids: Iterable[int], keys: Iterable[str] | None = None
) -> dict[int, dict[str, Channels]]:
    """{user_id: {key: channels}} as stored; ``keys`` narrows the read to what one send needs."""
    stmt = select(NotificationPreference).where(NotificationPreference.user_id.in_(list(user_ids)))
    if keys is not None:
        stmt = stmt.where(NotificationPreference.kind.in_(list(keys)))
    found: dict[int, dict[str, Channels]] = defaultdict(dict)
    for row in db.scalars(stmt):
        found[row.user_id][row.kind] = Channels(in_app=row.in_app, email=row.email, sms=row.sms)
    return found


def channels_for(db: Session, *, user_ids: Iterable[int], kind: str) -> dict[int, Channels]:
    """The channels ``kind`` goes by for each user: one query, whatever the number of users."""
    ids = list(user_ids)
    entry = kinds.table().entry_for(kind)
    chosen = stored(db, user_ids=ids, keys={kind, entry.key})
    return {uid: kinds.resolve(kind, chosen.get(uid, {})) for uid in ids}


@dataclass(frozen=True)
class Setting:
    """One row of the preferences page: an entry of kinds.yaml and what this person gets by it."""

    key: str
    label: str
    mandatory: bool
    channels: Channels
    default: Channels

    @property
    def customised(self) -> bool:
        return self.channels != self.default


def settings_of(db: Session, *, user: User) -> list[Setting]:
    """Every entry of kinds.yaml (and "all other"), plus any kind this person chose one by one."""
    table = kinds.table()
    chosen = stored(db, user_ids=[user.id]).get(user.id, {})
    rows = [Setting(e.key, e.label, e.mandatory, kinds.resolve(e.key, chosen), e.default) for e in table.entries]
    known = {e.key for e in table.entries}
    for key in sorted(set(chosen) - known):  # set one by one through the API
        entry = table.entry_for(key)
        rows.insert(-1, Setting(key, key, entry.mandatory, kinds.resolve(key, chosen), entry.default))
    return rows


def _check_key(key: str) -> kinds.Kind:
    if not kinds.KIND_RE.match(key):
        raise Invalid("kind", N_("Unknown kind of notification: {kind}"), kind=key[:60])
    table = kinds.table()
    return table.get(key) or table.entry_for(key)


def save(
    db: Session, *, user: User, choices: Mapping[str, Channels], actor: User
) -> list[Setting]:
    """Store the person's choices (only the kinds given); a mandatory kind cannot leave the app."""
    if actor.id != user.id and not actor.is_system_admin:
        raise Forbidden()
    existing = {row.kind: row for row in db.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    changed: dict[str, dict[str, bool]] = {}
    for key, channels in choices.items():
        entry = _check_key(key)
        if entry.mandatory and not channels.in_app:
            raise Invalid("in_app", N_("This kind of notification always reaches you in the app ({kind}); "
                                       "it cannot be turned off there."), kind=key)
        default = kinds.default_for(key)
        row = existing.get(key)
        if channels == default:
            if row is not None:
                db.execute(delete(NotificationPreference).where(NotificationPreference.id == row.id))
                changed[key] = channels.as_dict()
            continue
        if row is None:
            db.add(NotificationPreference(user_id=user.id, kind=key, in_app=channels.in_app, email=channels.email,
                                          sms=channels.sms, updated_at=utcnow()))
        elif Channels(row.in_app, row.email, row.sms) != channels:
            row.in_app, row.email, row.sms = channels.in_app, channels.email, channels.sms
        else:
            continue
        changed[key] = channels.as_dict()
    db.flush()
    if changed:
        audit.record(db, actor=actor, action="notify.preferences", object_type="user", object_id=user.id,
                     payload=changed, detail={"kinds": sorted(changed)})
    return settings_of(db, user=user)


def set_email(db: Session, *, user: User, email: str, actor: User) -> User:
    """A person's own address for e-mail notifications ("" removes it)."""
    from jianguan.auth.service import normalize_email

    new = normalize_email(email)
    if new != user.email:
        user.email = new
        db.flush()
        audit.record(db, actor=actor, action="user.email", object_type="user", object_id=user.id,
                     payload={"email": new}, detail={"set": new is not None})
    return user
