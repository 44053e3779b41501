"""JSON routes: the signed-in user's notifications and preferences; the outbox for system admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from jianguan.core.pagination import PageParams, page_params
from jianguan.deps import CurrentUser, LocaleDep, SessionDep
from jianguan.notify import outbox, preferences, service
from jianguan.notify.kinds import Channels
from jianguan.notify.models import Notification, OutboxMessage

router = APIRouter(prefix="/notify", tags=["notify"])


class NotificationRead(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    total: int
    unread: int
    offset: int
    limit: int


def _read(note: Notification, locale: str) -> NotificationRead:
    title, body = service.localize(note, locale)
    return NotificationRead(id=note.id, kind=note.kind, title=title, body=body, link=note.link,
                            created_at=note.created_at, read_at=note.read_at)


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(
    db: SessionDep,
    user: CurrentUser,
    locale: LocaleDep,
    page: Annotated[PageParams, Depends(page_params)],
    unread_only: Annotated[bool, Query()] = False,
) -> NotificationPage:
    rows, total = service.list_for(db, user, unread_only=unread_only, offset=page.offset, limit=page.limit)
    return NotificationPage(items=[_read(n, locale) for n in rows], total=total,
                            unread=service.unread_count(db, user), offset=page.offset, limit=page.limit)


@router.post("/notifications/read-all")
def read_all(db: SessionDep, user: CurrentUser) -> dict[str, int]:
    return {"marked": service.mark_all_read(db, actor=user)}


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
def read_one(notification_id: int, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> NotificationRead:
    return _read(service.mark_read(db, notification_id=notification_id, actor=user), locale)


# --------------------------------------------------------------------------- preferences (通知设置)


class ChannelsIn(BaseModel):
    in_app: bool = True
    email: bool = False
    sms: bool = False


class KindSettingRead(BaseModel):
    kind: str = Field(description="A notification kind, a pattern of kinds.yaml such as '*.transferred', or '*'.")
    label: str
    mandatory: bool = Field(description="Always in the app (督办); in_app cannot be turned off.")
    in_app: bool
    email: bool
    sms: bool
    customised: bool = Field(description="Differs from the platform's default for this kind.")


class PreferencesRead(BaseModel):
    email: str | None = Field(description="Where e-mail notifications go; none: e-mail is skipped.")
    has_phone: bool = Field(description="Whether SMS has a number to go to (the phone is set by an admin).")
    email_configured: bool
    sms_configured: bool
    kinds: list[KindSettingRead]


class PreferencesUpdate(BaseModel):
    email: str | None = Field(default=None, description="Your address; \"\" removes it, absent leaves it.")
    kinds: dict[str, ChannelsIn] = Field(default_factory=dict, description="Only the kinds given change.")


def _preferences(db: SessionDep, user: CurrentUser, locale: str) -> PreferencesRead:
    from jianguan.core.i18n import gettext
    from jianguan.notify import channels

    rows = preferences.settings_of(db, user=user)
    return PreferencesRead(
        email=user.email, has_phone=bool(user.phone), email_configured=channels.is_configured("email"),
        sms_configured=channels.is_configured("sms"),
        kinds=[KindSettingRead(kind=r.key, label=gettext(r.label, locale), mandatory=r.mandatory,
                               customised=r.customised, **r.channels.as_dict()) for r in rows])


@router.get("/notifications/preferences", response_model=PreferencesRead)
def get_preferences(db: SessionDep, user: CurrentUser, locale: LocaleDep) -> PreferencesRead:
    return _preferences(db, user, locale)


@router.put("/notifications/preferences", response_model=PreferencesRead)
def put_preferences(body: PreferencesUpdate, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> PreferencesRead:
    if body.email is not None:
        preferences.set_email(db, user=user, email=body.email, actor=user)
    choices = {key: Channels(**c.model_dump()) for key, c in body.kinds.items()}
    preferences.save(db, user=user, choices=choices, actor=user)
    return _preferences(db, user, locale)


# --------------------------------------------------------------------------- the outbox (system admin)


class OutboxMessageRead(BaseModel):
    id: int
    channel: str
    to: str = Field(description="The address, masked.")
    user_id: int
    kind: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str
    created_at: dt.datetime


class OutboxRead(BaseModel):
    counts: dict[str, dict[str, int]] = Field(description="{channel: {status: n}}")
    totals: dict[str, int]
    items: list[OutboxMessageRead]
    total: int


def _message(m: OutboxMessage) -> OutboxMessageRead:
    return OutboxMessageRead(id=m.id, channel=m.channel, to=outbox.mask_address(m.channel, m.address),
                             user_id=m.user_id, kind=m.kind, subject=m.subject, status=m.status, attempts=m.attempts,
                             next_attempt_at=m.next_attempt_at, sent_at=m.sent_at, last_error=outbox.shown_error(m),
                             created_at=m.created_at)


@router.get("/outbox", response_model=OutboxRead)
def get_outbox(
    db: SessionDep,
    user: CurrentUser,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(description="pending, failed, sent or dead")] = None,
) -> OutboxRead:
    counts = outbox.counts(db, actor=user)
    rows, total = outbox.list_messages(db, actor=user, status=status, offset=page.offset, limit=page.limit)
    return OutboxRead(counts=counts, totals=outbox.totals(counts), items=[_message(m) for m in rows], total=total)


@router.post("/outbox/{message_id}/retry")
def retry_message(message_id: int, db: SessionDep, user: CurrentUser) -> dict[str, int]:
    return {"requeued": outbox.retry(db, actor=user, message_id=message_id)}


@router.post("/outbox/retry-dead")
def retry_dead(db: SessionDep, user: CurrentUser) -> dict[str, int]:
    return {"requeued": outbox.retry(db, actor=user, all_dead=True)}
