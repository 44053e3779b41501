"""JSON routes for the signed-in user's notifications."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from jianguan.core.pagination import PageParams, page_params
from jianguan.deps import CurrentUser, LocaleDep, SessionDep
from jianguan.notify import service
from jianguan.notify.models import Notification

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
