"""Rendering pages: one Jinja2 environment per locale, the layout's context, and error pages.

Every page handler ends in ``render(request, "pkg/page.html", {...})``. The layout needs the
signed-in user, the CSRF token, the locale, the navigation (built from ``registry.DOMAINS``) and
the unread-notification count; ``render`` adds them so handlers stay thin.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from starlette.routing import Match, Mount

from jianguan import registry
from jianguan.auth.sessions import csrf_token
from jianguan.config import get_settings
from jianguan.core.errors import DomainError, Invalid
from jianguan.core.i18n import DEFAULT_LOCALE, LOCALES, N_, translations

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

ROLE_LABELS = {
    "system_admin": N_("System admin"),
    "agency_admin": N_("Agency admin"),
    "officer": N_("Officer"),
    "legal_reviewer": N_("Legal reviewer"),
    "leader": N_("Leader"),
    "entity_user": N_("Entity user"),
    "public": N_("Public"),
}
SCOPE_LABELS = {
    "agency": N_("Own agency"),
    "region": N_("Own region and below"),
    "all": N_("All"),
}
ERROR_TITLES = {
    400: N_("The request could not be completed"),
    403: N_("No permission"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Conflict"),
    422: N_("Please check your input"),
    429: N_("Too many attempts"),
}
FALLBACK_TITLE = N_("Something went wrong")
# Starlette's own HTTP errors carry English reason phrases; show our messages instead.
HTTP_MESSAGES = {
    404: N_("This page does not exist. Check the address or go back to the home page."),
    405: N_("This action is not available here."),
}


# Line icons for the navigation (inline SVG: emoji fonts are missing on many office PCs).
ICONS = {
    "home": '<path d="M3 11l9-7 9 7"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "entities": '<rect x="4" y="3" width="11" height="18" rx="1"/><path d="M15 9h5v12h-5"/>'
                '<path d="M8 7h3M8 11h3M8 15h3"/>',
    "officers": '<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="11" r="2.2"/>'
                '<path d="M5.8 16.5c.6-1.6 1.8-2.4 3.2-2.4s2.6.8 3.2 2.4"/>'
                '<path d="M14.5 10h4M14.5 13.5h3"/>',
    "catalog": '<path d="M5 4h11a3 3 0 0 1 3 3v13H8a3 3 0 0 1-3-3z"/><path d="M5 17a3 3 0 0 1 3-3h11"/>'
               '<path d="M9 8h6"/>',
    "inspections": '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 4V3h6v1"/>'
                   '<path d="M9 12.5l2 2 4-4"/>',
    "cases": '<path d="M12 4v16M7 20h10M5 7h14"/><path d="M5 7l-2.5 6h5z"/><path d="M19 7l-2.5 6h5z"/>',
    "risk": '<path d="M12 3.5L2.5 20h19z"/><path d="M12 10v4.5M12 17.2v.3"/>',
    "collab": '<circle cx="9" cy="8" r="3"/><path d="M3.5 19c.8-3 2.9-4.5 5.5-4.5s4.7 1.5 5.5 4.5"/>'
              '<circle cx="17" cy="9" r="2.3"/><path d="M16 14.6c2.3 0 3.9 1.3 4.5 3.9"/>',
    "datastd": '<ellipse cx="12" cy="6" rx="7" ry="2.8"/>'
               '<path d="M5 6v12c0 1.5 3.1 2.8 7 2.8s7-1.3 7-2.8V6"/>'
               '<path d="M5 12c0 1.5 3.1 2.8 7 2.8s7-1.3 7-2.8"/>',
    "assessment": '<path d="M4 20h16"/><rect x="6" y="11" width="3" height="7"/>'
                  '<rect x="11" y="6" width="3" height="12"/><rect x="16" y="14" width="3" height="4"/>',
    "disclosure": '<path d="M4 10v4h3l7 4V6l-7 4z"/><path d="M17.5 9a4 4 0 0 1 0 6"/>'
                  '<path d="M7 14l1.5 5H11l-1.2-4.5"/>',
    "dot": '<circle cx="12" cy="12" r="3"/>',
}


def icon(name: str, size: int = 20) -> Markup:
    """An inline line icon by name (a domain's package name, or "home")."""
    paths = ICONS.get(name, ICONS["dot"])
    return Markup(
        f'<svg class="icon" aria-hidden="true" width="{size}" height="{size}" viewBox="0 0 24 24" '
        'fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        f'stroke-linejoin="round">{paths}</svg>'
    )


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def today() -> dt.date:
    """Today in Asia/Shanghai (or the configured zone), the date officers reason in."""
    return dt.datetime.now(zone()).date()


def local_dt(value: dt.datetime | None) -> str:
    """Aware UTC instant → 'YYYY-MM-DD HH:MM' in Asia/Shanghai; '' for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone()).strftime("%Y-%m-%d %H:%M")


def local_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(zone()).date()
    return value.isoformat()


def days_until(value: dt.date | dt.datetime) -> int:
    """Calendar days from today (Shanghai) to ``value``; negative when it has passed."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(zone()).date()
    return (value - today()).days


@lru_cache(maxsize=64)
def _static_version(path: str) -> str:
    file = STATIC_DIR / path
    return str(int(file.stat().st_mtime)) if file.exists() else "0"


def static_url(path: str) -> str:
    """/static/<path>?v=<mtime>, so browsers pick up new assets after an upgrade."""
    return f"/static/{path}?v={_static_version(path)}"


def _make_gettext(locale: str) -> Any:
    catalog = translations(locale)

    def gettext(message: str, **params: Any) -> str:
        text = catalog.gettext(message)
        return text.format(**params) if params else text

    def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
        text = catalog.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    return gettext, ngettext


@lru_cache(maxsize=len(LOCALES))
def environment(locale: str) -> Environment:
    """The Jinja2 environment for one locale; ``_("English id", param=value)`` in templates."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    gettext, ngettext = _make_gettext(locale)
    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.filters.update(
        local_dt=local_dt,
        local_date=local_date,
        role_label=lambda role: gettext(ROLE_LABELS.get(role, role)),
        scope_label=lambda scope: gettext(SCOPE_LABELS.get(scope, scope)),
    )
    env.globals.update(today=today, days_until=days_until, static=static_url, icon=icon, LOCALE=locale)
    return env


@dataclass(frozen=True)
class NavItem:
    package: str
    label: str  # translated
    title: str  # the part's full Chinese name, as a tooltip
    icon: str
    href: str | None  # None: the domain is not built yet ("coming soon"), never a dead link
    active: bool


@lru_cache(maxsize=64)
def _has_pages(package: str) -> bool:
    return registry.has_module(package, "pages")


def nav_items(locale: str, path: str) -> list[NavItem]:
    """首页 plus every domain of DESIGN.md §1; a domain is a link once its pages.py exists.

    A domain's pages.py serves its landing page at ``/<package>``.
    """
    gettext = _make_gettext(locale)[0]
    items = [NavItem("home", gettext("Home"), "首页", "🏠", "/", path == "/")]
    for domain in registry.DOMAINS:
        href = f"/{domain.package}" if _has_pages(domain.package) else None
        active = href is not None and (path == href or path.startswith(href + "/"))
        label = gettext(domain.label)
        items.append(NavItem(domain.package, label, domain.chinese, domain.icon, href, active))
    return items


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def locale_of(request: Request) -> str:
    return str(getattr(request.state, "locale", DEFAULT_LOCALE))


def flash(request: Request, message: str, kind: str = "success", **params: Any) -> None:
    """A message shown once on the next rendered page (e.g. after a redirect). ``message`` is an id."""
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], {"m": message, "k": kind, "p": params}]


class PageStep:
    """What a page action says when it succeeds; set it late with ``done`` when it depends on the result."""

    def __init__(self, message: str | None, params: dict[str, Any]) -> None:
        self.message, self.params = message, params

    def done(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params


@contextmanager
def page_step(request: Request, db: Any, done: str | None = None, **params: Any) -> Iterator[PageStep]:
    """One form action of a page: a refusal (``DomainError``) rolls the work back and is shown as the
    error, naming what was wrong; success shows ``done``. The page then redirects either way."""
    step = PageStep(done, params)
    try:
        yield step
    except DomainError as error:
        db.rollback()
        flash(request, error.message, "error", **error.params)
    else:
        if step.message:
            flash(request, step.message, **step.params)


def form_date(field: str, value: str) -> dt.date | None:
    """A date typed in a form (YYYY-MM-DD), None when empty; anything else names the field."""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(field, N_("Dates are written YYYY-MM-DD.")) from None


def _pop_flash(request: Request, locale: str) -> list[dict[str, str]]:
    if "session" not in request.scope:
        return []
    pending = request.session.pop("flash", None) or []
    gettext = _make_gettext(locale)[0]
    shown = []
    for item in pending:
        message, kind, params = item.get("m", ""), item.get("k", "info"), item.get("p", {})
        if not message:
            continue
        # A parameter may itself be a message id (an action's label): shown translated too.
        params = {k: gettext(v) if isinstance(v, str) else v for k, v in params.items()}
        shown.append({"kind": kind, "text": gettext(message, **params)})
    return shown


def _unread_count(request: Request, user: Any) -> int | None:
    db = getattr(request.state, "db", None)
    if user is None or db is None or not registry.has_module("notify", "service"):
        return None
    notify = importlib.import_module("jianguan.notify.service")
    return int(notify.unread_count(db, user))


def page_exists(request: Request, path: str) -> bool:
    """Whether a GET page is served at ``path``: links point only at pages that exist."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "headers": [],
             "query_string": b"", "app": request.app}
    for route in request.app.router.routes:
        if isinstance(route, Mount):
            continue
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return True
    return False


def page_context(request: Request) -> dict[str, Any]:
    """What the layout needs on every page."""
    locale = locale_of(request)
    user = getattr(request.state, "user", None)
    has_session = "session" in request.scope
    return {
        "request": request,
        "user": user,
        "csrf_token": csrf_token(request) if has_session else "",
        "locale": locale,
        "nav": nav_items(locale, request.url.path),
        "unread_count": _unread_count(request, user),
        "notifications_url": "/notifications" if page_exists(request, "/notifications") else None,
        "messages": _pop_flash(request, locale) if has_session else [],
        "htmx": is_htmx(request),
        "current_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` (relative to web/templates) with the layout's context added."""
    ctx = page_context(request)
    ctx.update(context or {})
    html = environment(ctx["locale"]).get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def render_string(request: Request, template: str, context: dict[str, Any] | None = None) -> Markup:
    """A template rendered to markup, for fragments composed by a handler."""
    ctx = page_context(request)
    ctx.update(context or {})
    return Markup(environment(ctx["locale"]).get_template(template).render(ctx))


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='/')}"


def render_error(request: Request, error: DomainError) -> Response:
    """A domain error on a page: 401 sends the person to sign in; others get a clear message.

    HTMX requests get a fragment retargeted to the layout's message area, so the page stays put.
    """
    locale = locale_of(request)
    gettext = _make_gettext(locale)[0]
    if error.http_status == 401:
        if error.message != error.default_message and "session" in request.scope:
            flash(request, error.message, "error", **error.params)
        # Come back here after signing in, unless this was a form post or a sign-in step itself.
        replayable = request.method == "GET" and not request.url.path.startswith(("/auth/", "/login"))
        target = login_url(request) if replayable else "/login"
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    status = error.http_status
    if type(error) is DomainError and status in HTTP_MESSAGES:  # Starlette's HTTP errors
        message = gettext(HTTP_MESSAGES[status])
    else:
        message = error.localized(locale)
    with _layout_session(request):
        return _render_error_page(request, status, error, message, gettext)


@contextmanager
def _layout_session(request: Request) -> Iterator[None]:
    """By the time an error is rendered the request's session is rolled back and closed (or, for an
    unknown address, was never opened); the layout (user menu, unread count) reads the signed-in
    user in a short session of its own."""
    user = getattr(request.state, "user", None)
    never_asked = not hasattr(request.state, "user")  # e.g. a 404 before any handler ran
    signed_in = "session" in request.scope and "uid" in request.session
    if not (user is not None and sa_inspect(user).session is None) and not (never_asked and signed_in):
        yield
        return
    from jianguan.auth.models import User
    from jianguan.auth.sessions import authenticate_request
    from jianguan.db import session_factory

    with session_factory()() as db:
        if user is not None:
            request.state.user = db.get(User, sa_inspect(user).identity[0])
        else:
            authenticate_request(db, request)
        request.state.db = db
        try:
            yield
        finally:
            request.state.db = None


def _render_error_page(
    request: Request, status: int, error: DomainError, message: str, gettext: Any
) -> Response:
    context = {
        "status": status,
        "error_title": gettext(ERROR_TITLES.get(status, FALLBACK_TITLE)),
        "error_message": message,
        "error_code": error.code,
        "error_field": getattr(error, "field", None),
        "allowed_actions": getattr(error, "allowed", None),
    }
    if is_htmx(request):
        headers = {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
        return render(request, "_error_fragment.html", context, status_code=status, headers=headers)
    return render(request, "error.html", context, status_code=status)


def field_errors(error: DomainError, locale: str) -> dict[str, str]:
    """{field: translated message} from an ``Invalid`` (or any error naming fields in details)."""
    text = error.localized(locale)
    field = getattr(error, "field", None)
    if field:
        out = {str(field): text}
        for other in getattr(error, "others", []):  # Invalid.all: every refused field at once
            out.setdefault(str(other.field), other.localized(locale))
        return out
    details = error.details if isinstance(error.details, list) else []
    found = {str(d["field"]): text for d in details if isinstance(d, dict) and d.get("field")}
    return found or {"__all__": text}
