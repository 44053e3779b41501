"""账号申请: anyone asks for an officer account at an agency; that agency's admin decides.

The loop itself (states, who may act, deadlines, escalation) is declared in auth/workflow.py;
this module validates input, scopes reads, and calls the engine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import AccountRequest, Role, User
from jianguan.auth.passwords import check_policy, hash_password
from jianguan.auth.scope import ensure_visible, visible
from jianguan.auth.service import USERNAME_RE
from jianguan.auth.workflow import ACCOUNT_REQUEST, RETURNED, REVIEW_WORKING_DAYS, SUBMITTED
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, Invalid, NotFound, TooManyRequests, check_version
from jianguan.core.i18n import N_
from jianguan.core.models import WorkflowEvent
from jianguan.db import utcnow
from jianguan.officers.models import Agency

REQUESTABLE_ROLES = (Role.officer.value, Role.legal_reviewer.value, Role.leader.value)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
MAX_PER_IP_PER_HOUR = 5
OPEN_STATES = (SUBMITTED, RETURNED)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_roles(roles: Sequence[str]) -> list[str]:
    roles = list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    if not roles or any(r not in REQUESTABLE_ROLES for r in roles):
        raise Invalid("requested_roles", N_("Choose one or more of: officer, legal reviewer, leader."))
    return roles


def _clean_phone(phone: str | None) -> str | None:
    phone = (phone or "").strip() or None
    if phone is not None and not PHONE_RE.match(phone):
        raise Invalid("phone", N_("Enter a valid phone number."))
    return phone


def _clean_text(value: str, field: str, max_len: int, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(field, N_("This field is required."))
    if len(value) > max_len:
        raise Invalid(field, N_("At most {n} characters."), n=max_len)
    return value


def _throttle(db: Session, ip: str | None) -> None:
    if not ip:
        return
    since = utcnow() - dt.timedelta(hours=1)
    recent = db.scalar(select(func.count()).where(AccountRequest.submitted_ip == ip,
                                                  AccountRequest.created_at > since)) or 0
    if recent >= MAX_PER_IP_PER_HOUR:
        raise TooManyRequests(details={"retry_after": 3600})


def submit_request(
    db: Session,
    *,
    agency_id: int,
    username: str,
    display_name: str,
    password: str,
    requested_roles: Sequence[str],
    reason: str,
    phone: str | None = None,
    ip: str | None = None,
) -> tuple[AccountRequest, str]:
    """File a request (no sign-in needed). Returns it and the requester's token, shown only once."""
    _throttle(db, ip)
    agency = db.get(Agency, agency_id)
    if agency is None or not agency.is_active:
        raise Invalid("agency_id", N_("No such agency."))
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise Invalid("username", N_("Username must be 3–64 letters, digits, '.', '_' or '-'."))
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Invalid("username", N_("This username is already taken."))
    pending = select(AccountRequest.id).where(AccountRequest.username == username,
                                              AccountRequest.state.in_(OPEN_STATES))
    if db.scalar(pending) is not None:
        raise Invalid("username", N_("A request for this username is already being handled."))
    display_name = _clean_text(display_name, "display_name", 100, required=True)
    reason = _clean_text(reason, "reason", 2000, required=True)
    roles = _clean_roles(requested_roles)
    check_policy(password, username=username)
    token = secrets.token_urlsafe(24)
    request = AccountRequest(
        username=username,
        display_name=display_name,
        agency_id=agency.id,
        region_code=agency.region_code,
        requested_roles=roles,
        reason=reason,
        password_hash=hash_password(password),
        phone=_clean_phone(phone),
        token_hash=_token_hash(token),
        submitted_ip=ip,
    )
    workflow.start(db, request, workflow=ACCOUNT_REQUEST, actor=None, action="submit",
                   payload={"username": username, "agency_id": agency.id, "roles": roles, "ip": ip})
    _tell_reviewers(db, request)
    return request, token


def _tell_reviewers(db: Session, request: AccountRequest) -> None:
    """The agency's admins hear of a new request at once, not only when it becomes overdue."""
    from jianguan.notify import service as notify
    from jianguan.officers.service import admins_of

    admins = [u.id for u in admins_of(db, agency_id=request.agency_id)]
    if admins:
        notify.send(db, user_ids=admins, kind="account_request.submitted",
                    title=N_("New account request from {name}"),
                    params={"name": request.display_name, "n": REVIEW_WORKING_DAYS},
                    body=N_("Review it within {n} working days."), link=f"/account-requests/{request.id}")


def _require_reviewer(actor: User) -> None:
    if not (actor.is_system_admin or actor.has_role(Role.agency_admin)):
        raise Forbidden()


def get_request(db: Session, *, request_id: int, actor: User) -> AccountRequest:
    """A request the actor may see (agency admins within their data scope); others get 404/403."""
    _require_reviewer(actor)
    request = db.get(AccountRequest, request_id)
    ensure_visible(request, actor)
    assert request is not None
    return request


def list_requests(
    db: Session,
    *,
    actor: User,
    state: str | None = None,
    overdue: bool = False,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AccountRequest], int]:
    """Requests in the actor's scope, oldest deadline first (the ones to deal with come first)."""
    _require_reviewer(actor)
    stmt = select(AccountRequest).where(visible(AccountRequest, actor))
    if state:
        if state not in ACCOUNT_REQUEST.states:
            raise Invalid("state", N_("Unknown state: {state}"), state=state)
        stmt = stmt.where(AccountRequest.state == state)
    if overdue:
        stmt = stmt.where(AccountRequest.due_date < (today or workflow.local_today()))
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = db.scalars(
        stmt.order_by(AccountRequest.due_date.is_(None), AccountRequest.due_date, AccountRequest.id)
        .offset(offset).limit(min(limit, 500))
    ).all()
    return list(rows), total


def decide(
    db: Session,
    *,
    request_id: int,
    action: str,
    comment: str = "",
    actor: User,
    version: int | None = None,
) -> AccountRequest:
    """Approve, reject or return (or resubmit on the requester's behalf); stale ``version`` → 409."""
    request = get_request(db, request_id=request_id, actor=actor)
    check_version(request, version)
    workflow.act(db, request, action=action, actor=actor, comment=comment)
    return request


def _by_token(db: Session, request_id: int, token: str) -> AccountRequest:
    request = db.get(AccountRequest, request_id)
    if request is None or not request.token_hash or not hmac.compare_digest(request.token_hash,
                                                                            _token_hash(token or "")):
        raise NotFound()
    return request


def status_for_requester(db: Session, *, request_id: int, token: str) -> AccountRequest:
    """What the requester may see of their own request, proven by the token."""
    return _by_token(db, request_id, token)


def resubmit(
    db: Session,
    *,
    request_id: int,
    token: str,
    version: int | None = None,
    comment: str = "",
    display_name: str | None = None,
    reason: str | None = None,
    phone: str | None = None,
    requested_roles: Sequence[str] | None = None,
) -> AccountRequest:
    """The requester amends a returned request and sends it back for review."""
    request = _by_token(db, request_id, token)
    check_version(request, version)
    changed: dict[str, Any] = {}
    if request.state == RETURNED:  # amend only what the engine will accept; else it reports the 409
        if display_name is not None:
            request.display_name = changed["display_name"] = _clean_text(display_name, "display_name", 100,
                                                                         required=True)
        if reason is not None:
            request.reason = changed["reason"] = _clean_text(reason, "reason", 2000, required=True)
        if phone is not None:
            request.phone = _clean_phone(phone)
            changed["phone"] = "changed"
        if requested_roles is not None:
            request.requested_roles = changed["requested_roles"] = _clean_roles(requested_roles)
        request.decision_comment = ""
    workflow.act(db, request, action="resubmit", actor=None, comment=comment, payload=changed)
    return request


def history(db: Session, request: AccountRequest) -> list[WorkflowEvent]:
    return workflow.history(db, request)


def allowed_actions(request: AccountRequest, actor: User | None) -> list[str]:
    return workflow.allowed_actions(request, actor)


def expire_returned(db: Session, *, today: dt.date | None = None) -> dict[str, int]:
    """Returned requests not resubmitted by their deadline lapse (run daily by the worker)."""
    today = today or workflow.local_today()
    rows = db.scalars(select(AccountRequest).where(AccountRequest.state == RETURNED,
                                                   AccountRequest.due_date < today)).all()
    for request in rows:
        workflow.act(db, request, action="expire", actor=None, system=True,
                     comment=N_("Not resubmitted in time."))
    return {"expired": len(rows)}
