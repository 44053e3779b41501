"""消息通知 pages: my notifications, newest first; open one (marks it read) or mark them read; my
notification preferences (通知设置); the outbox for system admins (counts, dead letters, requeue).

Opening a notification is a form post that marks it read and then goes where it points, so it
works without JavaScript; with HTMX, "mark read" swaps just the one item and the bell's count.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.notify import channels, kinds, outbox, preferences, service
from jianguan.notify.kinds import Channels
from jianguan.notify.models import Notification
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, is_htmx, locale_of, page_step, render

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



# --------------------------------------------------------------------------- preferences (通知设置)


def _preferences_page(request: Request, db: Session, user: User, *, errors: dict[str, str] | None = None,
                      email: str | None = None, status_code: int = 200) -> HTMLResponse:
    from jianguan.core.masking import mask_phone

    context = {
        "rows": preferences.settings_of(db, user=user),
        "email": user.email if email is None else email,
        "phone": mask_phone(user.phone),
        "email_configured": channels.is_configured("email"),
        "sms_configured": channels.is_configured("sms"),
        "errors": errors or {},
    }
    return render(request, "notify/preferences.html", context, status_code=status_code)


@router.get("/notifications/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _preferences_page(request, db, user)


@router.post("/notifications/preferences", dependencies=[CsrfProtected])
def save_preferences(
    request: Request,
    db: SessionDep,
    user: PageUser,
    kind: Annotated[list[str] | None, Form()] = None,
    in_app: Annotated[list[str] | None, Form()] = None,
    by_email: Annotated[list[str] | None, Form()] = None,
    by_sms: Annotated[list[str] | None, Form()] = None,
    email: Annotated[str, Form()] = "",
) -> Response:
    """Every row of the form is a choice; a mandatory kind's disabled box counts as ticked."""
    ticked = {"in_app": set(in_app or []), "email": set(by_email or []), "sms": set(by_sms or [])}
    table = kinds.table()
    choices = {}
    for key in kind or []:
        entry = table.get(key) or table.entry_for(key)
        choices[key] = Channels(in_app=entry.mandatory or key in ticked["in_app"], email=key in ticked["email"],
                                sms=key in ticked["sms"])
    try:
        preferences.set_email(db, user=user, email=email, actor=user)
        preferences.save(db, user=user, choices=choices, actor=user)
    except Invalid as error:
        db.rollback()
        return _preferences_page(request, db, user, errors=field_errors(error, locale_of(request)), email=email,
                                 status_code=422)
    flash(request, N_("Your notification preferences are saved."))
    return RedirectResponse("/notifications/preferences", status_code=303)


# --------------------------------------------------------------------------- the outbox (system admin)

OUTBOX_TABS = ("dead", "failed", "pending", "sent")


@router.get("/notifications/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request, db: SessionDep, user: PageUser,
    status: Annotated[str, Query()] = "dead", page: Annotated[str, Query()] = "1",
) -> HTMLResponse:
    status = status if status in OUTBOX_TABS else "dead"
    number = int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1
    counts = outbox.counts(db, actor=user)
    rows, total = outbox.list_messages(db, actor=user, status=status, offset=(number - 1) * PAGE_SIZE,
                                       limit=PAGE_SIZE)
    context = {
        "counts": counts,
        "totals": outbox.totals(counts),
        "configured": {c: channels.is_configured(c) for c in ("email", "sms")},
        "status": status,
        "tabs": OUTBOX_TABS,
        "items": [{"m": m, "to": outbox.mask_address(m.channel, m.address), "error": outbox.shown_error(m)}
                  for m in rows],
        "total": total,
        "page": number,
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
    }
    return render(request, "notify/outbox.html", context)


@router.post("/notifications/outbox/{message_id:int}/retry", dependencies=[CsrfProtected])
def retry_page(request: Request, message_id: int, db: SessionDep, user: PageUser,
               status: Annotated[str, Form()] = "dead") -> Response:
    with page_step(request, db, N_("Requeued: it is sent within a minute.")):
        outbox.retry(db, actor=user, message_id=message_id)
    return RedirectResponse(f"/notifications/outbox?status={status if status in OUTBOX_TABS else 'dead'}",
                            status_code=303)


@router.post("/notifications/outbox/retry-dead", dependencies=[CsrfProtected])
def retry_dead_page(request: Request, db: SessionDep, user: PageUser) -> Response:
    with page_step(request, db) as step:
        n = outbox.retry(db, actor=user, all_dead=True)
        step.done(N_("Requeued {n} dead messages: they are sent within a minute.") if n
                  else N_("There are no dead messages."), n=n)
    return RedirectResponse("/notifications/outbox?status=dead", status_code=303)
