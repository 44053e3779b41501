"""消息通知 pages: my notifications, newest first; open one (marks it read) or mark them read.

Opening a notification is a form post that marks it read and then goes where it points, so it
works without JavaScript; with HTMX, "mark read" swaps just the one item and the bell's count.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.notify import service
from jianguan.notify.models import Notification
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import flash, is_htmx, locale_of, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30


def _item(note: Notification, locale: str) -> dict[str, Any]:
    title, body = service.localize(note, locale)
    return {"note": note, "title": title, "body": body, "link": _local(note.link)}


def _local(link: str) -> str | None:
    """Only a path on this site: a notification never sends anyone elsewhere."""
    if link.startswith("/") and not link.startswith(("//", "/\\")):
        return link
    return None


@router.get("/notifications", response_class=HTMLResponse)
def notifications(
    request: Request,
    db: SessionDep,
    user: PageUser,
    unread: Annotated[str, Query()] = "",
    page: Annotated[str, Query()] = "1",
) -> HTMLResponse:
    number = int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1
    rows, total = service.list_for(db, user, unread_only=bool(unread), offset=(number - 1) * PAGE_SIZE,
                                   limit=PAGE_SIZE)
    locale = locale_of(request)
    context = {
        "items": [_item(n, locale) for n in rows],
        "total": total,
        "unread_only": bool(unread),
        "page": number,
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
    }
    return render(request, "notify/index.html", context)


@router.post("/notifications/read-all", dependencies=[CsrfProtected])
def read_all(request: Request, db: SessionDep, user: PageUser) -> Response:
    marked = service.mark_all_read(db, actor=user)
    flash(request, N_("Marked {n} notifications as read.") if marked else N_("No unread notifications."), n=marked)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id:int}/read", dependencies=[CsrfProtected])
def read_one(
    request: Request,
    notification_id: int,
    db: SessionDep,
    user: PageUser,
    open: Annotated[str, Form()] = "",
) -> Response:
    """Mark read; with ``open`` go on to what the notification is about (its own link, never a given one)."""
    note = service.mark_read(db, notification_id=notification_id, actor=user)
    link = _local(note.link)
    if open and link:
        return RedirectResponse(link, status_code=303)
    if is_htmx(request):
        return render(request, "notify/_item.html", {"item": _item(note, locale_of(request)), "oob": True})
    return RedirectResponse("/notifications", status_code=303)

