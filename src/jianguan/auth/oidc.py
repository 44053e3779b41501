"""Sign-in through a government identity platform (OpenID Connect, via authlib).

An identity is used only once it is **bound** to an existing account: the officer signs in with
the password once, then binds from 我的账号; afterwards the platform alone signs them in. An unbound
identity never creates an account (accounts come from agency admins and account requests).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.sessions import login_session
from jianguan.config import Settings, get_settings
from jianguan.core.errors import Conflict, Invalid, Unauthorized
from jianguan.core.i18n import N_
from jianguan.db import utcnow
from jianguan.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/auth/oidc", include_in_schema=False)
_clients: dict[tuple[str, str], Any] = {}


def enabled(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def subject_key(issuer: str, sub: str) -> str:
    """Subjects are only unique per issuer, so the stored key names both."""
    return f"{issuer.rstrip('/')}#{sub}"


def client() -> Any:
    settings = get_settings()
    key = (settings.oidc_issuer, settings.oidc_client_id)
    if key not in _clients:
        oauth = OAuth()
        oauth.register(
            "gov",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scope},
        )
        _clients[key] = oauth.create_client("gov")
    return _clients[key]


def user_for_subject(db: Session, *, subject: str) -> User | None:
    return db.scalar(select(User).where(User.oidc_subject == subject, User.is_active))


def bind(db: Session, *, user: User, subject: str) -> User:
    other = db.scalar(select(User).where(User.oidc_subject == subject))
    if other is not None and other.id != user.id:
        raise Conflict(N_("This identity is already bound to another account."))
    user.oidc_subject = subject
    db.flush()
    audit.record(db, actor=user, action="auth.oidc_bind", object_type="user", object_id=user.id,
                 payload={"subject": subject})
    return user


def unbind(db: Session, *, user: User) -> User:
    if user.oidc_subject is None:
        raise Invalid("oidc_subject", N_("No identity is bound to this account."))
    user.oidc_subject = None
    db.flush()
    audit.record(db, actor=user, action="auth.oidc_unbind", object_type="user", object_id=user.id)
    return user


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
async def oidc_login(request: Request, next: str | None = None) -> Response:
    if not enabled():
        raise Invalid("oidc", N_("Sign-in through the identity platform is not configured."))
    request.session["oidc_next"] = _safe_next(next)
    redirect_uri = str(request.url_for("oidc_callback"))
    response: Response = await client().authorize_redirect(request, redirect_uri)
    return response


@router.get("/bind")
async def oidc_bind(request: Request, user: CurrentUser) -> Response:
    """Start binding the signed-in account to the identity platform."""
    if not enabled():
        raise Invalid("oidc", N_("Sign-in through the identity platform is not configured."))
    request.session["oidc_bind_uid"] = user.id
    request.session["oidc_next"] = "/account"
    response: Response = await client().authorize_redirect(request, str(request.url_for("oidc_callback")))
    return response


@router.get("/callback", name="oidc_callback")
async def oidc_callback(request: Request, db: SessionDep) -> Response:
    settings = get_settings()
    try:
        token = await client().authorize_access_token(request)
    except OAuthError as exc:
        raise Unauthorized(N_("The identity platform refused the sign-in: {reason}"),
                           reason=exc.description or exc.error) from exc
    claims = token.get("userinfo") or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized(N_("The identity platform returned no subject."))
    subject = subject_key(settings.oidc_issuer, str(sub))
    next_url = _safe_next(request.session.pop("oidc_next", "/"))
    bind_uid = request.session.pop("oidc_bind_uid", None)
    if bind_uid is not None:
        user = db.get(User, bind_uid)
        if user is None:
            raise Unauthorized()
        bind(db, user=user, subject=subject)
    else:
        found = user_for_subject(db, subject=subject)
        if found is None:
            audit.record(db, actor=None, action="auth.oidc_unbound", object_type="user",
                         payload={"subject": subject})
            query = urlencode({"error": "oidc_unbound"})
            return RedirectResponse(f"/login?{query}", status_code=303)
        user = found
        user.last_login_at = utcnow()
        audit.record(db, actor=user, action="auth.login", object_type="user", object_id=user.id,
                     payload={"via": "oidc"}, detail={"via": "oidc"})
    login_session(request, user)
    return RedirectResponse(next_url, status_code=303)
