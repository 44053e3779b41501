"""Sign-in, sign-out and 我的账号 (profile, password change, API tokens) as HTML pages.

Thin handlers over ``auth.service``; errors a person can fix are shown inline on the form,
naming the field. A failed sign-in is *returned*, not raised, so the attempt (which throttling
counts) is committed with the request.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan import registry
from jianguan.auth import oidc, service
from jianguan.auth.models import User
from jianguan.auth.sessions import check_csrf, login_session, logout_session
from jianguan.config import get_settings
from jianguan.core.errors import Forbidden, Invalid, TooManyRequests, Unauthorized
from jianguan.core.i18n import N_, gettext
from jianguan.deps import SessionDep
from jianguan.web.deps import CsrfProtected, OptionalPageUser, PageUser
from jianguan.web.render import field_errors, flash, locale_of, render

router = APIRouter(include_in_schema=False)

TOKEN_LIFETIMES = (30, 90, 365, 0)  # days; 0 = never expires
LOGIN_ERRORS = {
    "oidc_unbound": N_("This identity is not bound to an account yet. Sign in with your password once, "
                       "then bind it under My account."),
}


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect to another site would help phishing."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request,
    *,
    next_url: str,
    username: str = "",
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    settings = get_settings()
    context = {
        "next": next_url,
        "username": username,
        "errors": errors or {},
        "form_error": form_error,
        "oidc_enabled": oidc.enabled(settings),
        "oidc_label": settings.oidc_label,
    }
    return render(request, "auth/login.html", context, status_code=status_code, headers=headers)


@router.get("/login")
def login_form(
    request: Request, user: OptionalPageUser, next: str | None = None, error: str | None = None
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    message = LOGIN_ERRORS.get(error or "")
    form_error = gettext(message, locale_of(request)) if message else None
    return _login_page(request, next_url=safe_next(next), form_error=form_error)


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form(""),
) -> Response:
    locale = locale_of(request)
    next_url = safe_next(next)
    try:
        check_csrf(request, csrf_token)
    except Forbidden as exc:
        return _login_page(request, next_url=next_url, username=username,
                           form_error=exc.localized(locale), status_code=403)
    errors = {}
    if not username.strip():
        errors["username"] = gettext(N_("Enter your username."), locale)
    if not password:
        errors["password"] = gettext(N_("Enter your password."), locale)
    if errors:
        return _login_page(request, next_url=next_url, username=username, errors=errors, status_code=422)
    ip = request.client.host if request.client else None
    try:
        user = service.authenticate(db, username=username, password=password, ip=ip)
    except TooManyRequests as exc:
        retry = exc.details.get("retry_after", 60) if isinstance(exc.details, dict) else 60
        return _login_page(request, next_url=next_url, username=username, form_error=exc.localized(locale),
                           status_code=429, headers={"Retry-After": str(retry)})
    except Unauthorized as exc:
        return _login_page(request, next_url=next_url, username=username, form_error=exc.localized(locale),
                           status_code=401)
    login_session(request, user)
    return RedirectResponse(next_url, status_code=303)


@router.post("/logout", dependencies=[CsrfProtected])
def logout(request: Request) -> Response:
    logout_session(request)
    flash(request, N_("You have signed out."))
    return RedirectResponse("/login", status_code=303)


def _account_page(
    request: Request,
    db: SessionDep,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    new_token: str | None = None,
    token_name: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "profile": user,
        "tokens": service.list_api_tokens(db, user=user),
        "errors": errors or {},
        "new_token": new_token,
        "token_name": token_name,
        "token_lifetimes": TOKEN_LIFETIMES,
        "oidc_enabled": oidc.enabled(),
        "oidc_label": get_settings().oidc_label,
    }
    return render(request, "auth/account.html", context, status_code=status_code)


@router.get("/account")
def account(request: Request, db: SessionDep, user: PageUser) -> Response:
    return _account_page(request, db, user)


@router.post("/account/password", dependencies=[CsrfProtected])
def change_password(
    request: Request,
    db: SessionDep,
    user: PageUser,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
) -> Response:
    try:
        if new_password != confirm_password:
            raise Invalid("confirm_password", N_("The two new passwords do not match."))
        service.change_password(db, user=user, current_password=current_password, new_password=new_password)
    except Invalid as exc:
        return _account_page(request, db, user, errors=field_errors(exc, locale_of(request)), status_code=422)
    login_session(request, user)  # other sessions are signed out; this one carries on
    flash(request, N_("Your password has been changed. Other signed-in devices were signed out."))
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens", dependencies=[CsrfProtected])
def create_token(
    request: Request,
    db: SessionDep,
    user: PageUser,
    token_name: str = Form(""),
    expires_days: str = Form("365"),
) -> Response:
    lifetime = int(expires_days) if expires_days.isdigit() and int(expires_days) in TOKEN_LIFETIMES else 365
    try:
        token, _row = service.create_api_token(db, user=user, name=token_name, expires_days=lifetime or None,
                                               actor=user)
    except Invalid as exc:
        errors = {("token_" + k): v for k, v in field_errors(exc, locale_of(request)).items()}
        return _account_page(request, db, user, errors=errors, token_name=token_name,
                             status_code=422)
    return _account_page(request, db, user, new_token=token, status_code=201)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfProtected])
def revoke_token(request: Request, db: SessionDep, user: PageUser, token_id: int) -> Response:
    row = service.revoke_api_token(db, token_id=token_id, actor=user)
    flash(request, N_("The token “{name}” has been revoked."), name=row.name)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/oidc/unbind", dependencies=[CsrfProtected])
def unbind_identity(request: Request, db: SessionDep, user: PageUser) -> Response:
    oidc.unbind(db, user=user)
    flash(request, N_("The identity platform account has been unbound."))
    return RedirectResponse("/account", status_code=303)


# Account-request pages (a workflow of their own module) share this router.
if registry.has_module("auth", "requests_pages"):
    router.include_router(importlib.import_module("jianguan.auth.requests_pages").router)
