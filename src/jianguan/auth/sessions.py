"""Signed session cookies for pages, bearer tokens for machines, CSRF for forms."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from sqlalchemy.orm import Session

from jianguan.auth import service
from jianguan.auth.models import User
from jianguan.core.errors import Forbidden
from jianguan.core.i18n import N_

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def login_session(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch, "csrf": secrets.token_urlsafe(24)})


def logout_session(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Forms carry the token in a hidden field, HTMX and fetch() in the X-CSRF-Token header."""
    expected = request.session.get("csrf")
    submitted = submitted or request.headers.get("x-csrf-token")
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise Forbidden(N_("The form has expired. Reload the page and try again."))


def authenticate_request(db: Session, request: Request) -> User | None:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    auth = request.headers.get("authorization", "")
    user: User | None = None
    if auth.lower().startswith("bearer "):
        user = service.user_for_token(db, auth[7:].strip())
        request.state.auth_kind = "token"
    elif "uid" in request.session:
        candidate = db.get(User, request.session["uid"])
        if (
            candidate is not None
            and candidate.is_active
            and candidate.session_epoch == request.session.get("epoch")
        ):
            user = candidate
            request.state.auth_kind = "session"
            # Cookie-authenticated writes to the API must prove they come from our pages.
            if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
                check_csrf(request, None)
    request.state.user = user
    return user
