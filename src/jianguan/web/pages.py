"""The home page (首页): real counts of what exists now, and today's date and kind of day.

Each card comes from a service of the package that owns it; packages that do not exist yet (or a
role that may not see something) simply produce no card, so the page grows as domains arrive.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan import registry
from jianguan.auth import service as accounts
from jianguan.auth.models import Role, User
from jianguan.core import workdays
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.officers import service as agencies
from jianguan.web.deps import PageUser
from jianguan.web.render import locale_of, nav_items, page_exists, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Card:
    key: str
    label: str  # message id
    value: int
    hint: str = ""  # message id
    href: str | None = None
    tone: str = ""  # "", "attention"


@dataclass(frozen=True)
class Today:
    date: dt.date
    long: str  # e.g. 2026年11月24日星期二
    kind: str  # working_day, adjusted_working_day (调休上班), holiday, weekend
    name: str  # the holiday it belongs to, if any
    unconfirmed: bool  # the year's holiday notice is not loaded yet


def _optional(module: str) -> Any | None:
    package, _, name = module.rpartition(".")
    if not registry.has_module(package.removeprefix("jianguan."), name):
        return None
    return importlib.import_module(module)


def _route(request: Request, path: str) -> str | None:
    """Link a card only to a page that exists, never to a dead end."""
    return path if page_exists(request, path) else None


def home_cards(db: Session, request: Request, user: User) -> list[Card]:
    cards = [
        Card("agencies", N_("Agencies"), agencies.count_agencies(db, actor=user),
             N_("Enforcement agencies in your data scope"), _route(request, "/officers")),
        Card("users", N_("Accounts"), accounts.list_users(db, actor=user, limit=1)[1],
             N_("User accounts you can see"), _route(request, "/users")),
    ]
    if user.is_system_admin:
        from jianguan.audit.models import AuditEntry

        count = int(db.scalar(select(func.count(AuditEntry.id))) or 0)
        cards.append(Card("audit", N_("Audit log entries"), count, N_("Hash-chained, append-only"),
                          _route(request, "/audit")))
    notify = _optional("jianguan.notify.service")
    if notify is not None:
        unread = int(notify.unread_count(db, user))
        cards.append(Card("notifications", N_("Unread notifications"), unread,
                          N_("Messages addressed to you"), _route(request, "/notifications"),
                          "attention" if unread else ""))
    requests = _optional("jianguan.auth.account_requests")
    if requests is not None and (user.is_system_admin or user.has_role(Role.agency_admin)):
        pending = int(requests.list_requests(db, actor=user, state="submitted", limit=1)[1])
        cards.append(Card("account_requests", N_("Account requests to review"), pending,
                          N_("Submitted and waiting for a decision"), _route(request, "/account-requests"),
                          "attention" if pending else ""))
    return cards


def today_card(db: Session, locale: str) -> Today:
    """Today in Asia/Shanghai and what kind of day it is in the working-day calendar."""
    day = workdays.today_shanghai()
    info = workdays.WorkCalendar.from_db(db).day_info(day)
    long = format_date(day, format="full", locale=locale)
    return Today(day, long, info.kind, info.name, info.unconfirmed)


@router.get("/")
def home(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    locale = locale_of(request)
    context = {
        "cards": home_cards(db, request, user),
        "today_info": today_card(db, locale),
        "domains": [item for item in nav_items(locale, "/") if item.package != "home"],
    }
    return render(request, "home.html", context)
