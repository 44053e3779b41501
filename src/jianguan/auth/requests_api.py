"""JSON routes for account requests (账号申请). Thin: parse, call auth/account_requests.py, shape.

Submitting and following one's own request need no sign-in (the token returned at submission
proves who is asking); listing and deciding are for the agency's admins.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from jianguan.auth import account_requests as service
from jianguan.auth.models import AccountRequest, User
from jianguan.core.errors import Unauthorized
from jianguan.core.i18n import gettext
from jianguan.core.masking import mask_phone
from jianguan.core.models import WorkflowEvent
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.core.workflow import LEVEL_LABELS, local_today
from jianguan.deps import CurrentUser, LocaleDep, OptionalUser, SessionDep

router = APIRouter(prefix="/account-requests", tags=["account requests"])


class AccountRequestCreate(BaseModel):
    agency_id: int
    username: str = Field(examples=["zhang.wei"])
    display_name: str = Field(examples=["张伟"])
    password: str = Field(description="At least 10 characters with letters and digits.")
    requested_roles: list[str] = Field(examples=[["officer"]],
                                       description="officer, legal_reviewer and/or leader")
    reason: str = Field(examples=["新入职执法人员，需办理执法检查业务"])
    phone: str | None = Field(default=None, description="Restricted: stored encrypted, shown masked.")


class AccountRequestSubmitted(BaseModel):
    id: int
    state: str
    due_date: dt.date | None
    due_unconfirmed: bool
    version: int
    token: str = Field(description="Shown once: keep it to follow or amend the request.")


class EventRead(BaseModel):
    id: int
    action: str
    from_state: str | None
    to_state: str
    actor_name: str
    at: dt.datetime
    comment: str
    due_date: dt.date | None


class AccountRequestRead(BaseModel):
    id: int
    username: str
    display_name: str
    agency_id: int
    agency_name: str
    region_code: str
    requested_roles: list[str]
    reason: str
    phone: str | None
    state: str
    state_since: dt.datetime | None
    due_date: dt.date | None
    due_unconfirmed: bool
    overdue: bool
    escalation_level: int
    decision_comment: str
    created_user_id: int | None
    created_at: dt.datetime
    version: int


class AccountRequestDetail(AccountRequestRead):
    allowed_actions: list[str]
    history: list[EventRead]


class RequesterView(BaseModel):
    """What the requester sees: where the request stands, and why if it came back."""

    id: int
    username: str
    display_name: str
    state: str
    due_date: dt.date | None
    due_unconfirmed: bool
    decision_comment: str
    version: int
    history: list[EventRead]


class DecisionIn(BaseModel):
    comment: str = ""
    version: int = Field(description="The version you read; a stale one is refused with 409.")


class ResubmitIn(BaseModel):
    token: str | None = Field(default=None,
                              description="The requester's token; omit when an admin resubmits.")
    version: int
    comment: str = ""
    display_name: str | None = None
    reason: str | None = None
    phone: str | None = None
    requested_roles: list[str] | None = None


def _event(e: WorkflowEvent, locale: str) -> EventRead:
    comment = e.comment
    if e.actor_name == "system":  # words the platform wrote are message ids; people's are kept as typed
        comment = gettext(LEVEL_LABELS.get(comment, comment), locale)
    return EventRead(id=e.id, action=e.action, from_state=e.from_state, to_state=e.to_state,
                     actor_name=e.actor_name, at=e.at, comment=comment, due_date=e.due_date)


def _read(r: AccountRequest) -> AccountRequestRead:
    return AccountRequestRead(
        id=r.id, username=r.username, display_name=r.display_name, agency_id=r.agency_id,
        agency_name=r.agency.name, region_code=r.region_code, requested_roles=r.requested_roles,
        reason=r.reason, phone=mask_phone(r.phone), state=r.state, state_since=r.state_since,
        due_date=r.due_date, due_unconfirmed=r.due_unconfirmed,
        overdue=r.due_date is not None and r.due_date < local_today(),
        escalation_level=r.escalation_level, decision_comment=r.decision_comment,
        created_user_id=r.created_user_id, created_at=r.created_at, version=r.version,
    )


def _detail(db: SessionDep, r: AccountRequest, user: User, locale: str) -> AccountRequestDetail:
    return AccountRequestDetail(
        **_read(r).model_dump(),
        allowed_actions=service.allowed_actions(r, user),
        history=[_event(e, locale) for e in service.history(db, r)],
    )


def _requester_view(db: SessionDep, r: AccountRequest, locale: str) -> RequesterView:
    return RequesterView(id=r.id, username=r.username, display_name=r.display_name, state=r.state,
                         due_date=r.due_date, due_unconfirmed=r.due_unconfirmed,
                         decision_comment=r.decision_comment, version=r.version,
                         history=[_event(e, locale) for e in service.history(db, r)
                                  if e.action != "escalate"])


@router.post("", response_model=AccountRequestSubmitted, status_code=201)
def submit(body: AccountRequestCreate, request: Request, db: SessionDep) -> AccountRequestSubmitted:
    """Ask for an account (no sign-in). Keep the returned token to follow the request."""
    ip = request.client.host if request.client else None
    r, token = service.submit_request(db, ip=ip, **body.model_dump())
    return AccountRequestSubmitted(id=r.id, state=r.state, due_date=r.due_date,
                                   due_unconfirmed=r.due_unconfirmed, version=r.version, token=token)


@router.get("", response_model=Page[AccountRequestRead])
def list_requests(
    db: SessionDep,
    user: CurrentUser,
    page: Annotated[PageParams, Depends(page_params)],
    state: Annotated[str | None, Query()] = None,
    overdue: Annotated[bool, Query()] = False,
) -> Page[AccountRequestRead]:
    rows, total = service.list_requests(db, actor=user, state=state, overdue=overdue,
                                        offset=page.offset, limit=page.limit)
    return Page(items=[_read(r) for r in rows], total=total, offset=page.offset, limit=page.limit)


@router.get("/{request_id}/status", response_model=RequesterView)
def requester_status(
    request_id: int, db: SessionDep, locale: LocaleDep,
    token: Annotated[str, Header(alias="X-Request-Token")],
) -> RequesterView:
    """The requester follows their own request with the token (header ``X-Request-Token``)."""
    return _requester_view(db, service.status_for_requester(db, request_id=request_id, token=token), locale)


@router.post("/{request_id}/resubmit", response_model=RequesterView | AccountRequestDetail)
def resubmit(
    request_id: int, body: ResubmitIn, db: SessionDep, user: OptionalUser, locale: LocaleDep
) -> RequesterView | AccountRequestDetail:
    """The requester amends a returned request and sends it back, proven by the token; without a
    token, the agency's admin resubmits on the requester's behalf (e.g. details given by phone)."""
    if body.token:
        r = service.resubmit(db, request_id=request_id, **body.model_dump())
        return _requester_view(db, r, locale)
    if user is None:
        raise Unauthorized()
    r = service.decide(db, request_id=request_id, action="resubmit", comment=body.comment,
                       version=body.version, actor=user)
    return _detail(db, r, user, locale)


@router.get("/{request_id}", response_model=AccountRequestDetail)
def get_request(
    request_id: int, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> AccountRequestDetail:
    return _detail(db, service.get_request(db, request_id=request_id, actor=user), user, locale)


@router.post("/{request_id}/{action}", response_model=AccountRequestDetail)
def decide(
    request_id: int, action: str, body: DecisionIn, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> AccountRequestDetail:
    """approve; reject or return (a comment is required); resubmit on the requester's behalf."""
    r = service.decide(db, request_id=request_id, action=action, comment=body.comment,
                       version=body.version, actor=user)
    return _detail(db, r, user, locale)
