"""账号申请 pages: the public request form and status page, the admins' list and decision page.

Thin over auth/account_requests.py. The requester has no account: the token shown once at
submission is their only key, so it travels in form bodies, never in an address (addresses end
up in logs and browser histories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth import account_requests as service
from jianguan.auth.models import AccountRequest, User
from jianguan.auth.workflow import APPROVED, EXPIRED, REJECTED, RETURNED, SUBMITTED
from jianguan.core import workflow
from jianguan.core.errors import Invalid, NotFound, TooManyRequests
from jianguan.core.i18n import N_, gettext
from jianguan.core.masking import mask_phone
from jianguan.core.models import WorkflowEvent
from jianguan.deps import SessionDep
from jianguan.officers.models import Agency
from jianguan.web.deps import CsrfProtected, OptionalPageUser, PageUser
from jianguan.web.render import field_errors, flash, locale_of, page_exists, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
NO_STORE = {"Cache-Control": "no-store"}  # pages that show the token or a requester's details

STATE_LABELS = {
    SUBMITTED: N_("Awaiting review"),
    RETURNED: N_("Returned for changes"),
    APPROVED: N_("Approved"),
    REJECTED: N_("Rejected"),
    EXPIRED: N_("Expired"),
}
STATE_TONES = {SUBMITTED: "info", RETURNED: "warn", APPROVED: "ok", REJECTED: "danger", EXPIRED: "muted"}
# What happened, in the history; what a button does, on the decision form.
EVENT_LABELS = {
    "submit": N_("Request submitted"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "return": N_("Returned for changes"),
    "resubmit": N_("Resubmitted"),
    "escalate": N_("Escalated as overdue"),
    "expire": N_("Lapsed (not resubmitted in time)"),
}
BUTTON_LABELS = {  # in the order the buttons appear: the final "no" last
    "approve": N_("Approve and create the account"),
    "resubmit": N_("Resubmit on the requester's behalf"),
    "return": N_("Return for changes"),
    "reject": N_("Reject"),
}
DONE_MESSAGES = {
    "approve": N_("Approved. The account {username} has been created; the requester can sign in now."),
    "return": N_("Returned to the requester for changes."),
    "reject": N_("The request has been rejected."),
    "resubmit": N_("Resubmitted for review."),
}
NEEDS_COMMENT = frozenset({"reject", "return"})
REQUIRED_FIELDS = ("agency_id", "username", "display_name", "password", "confirm_password", "reason")
REQUESTER_NAMES = {workflow.PUBLIC: N_("Requester"), workflow.SYSTEM: N_("System")}


@dataclass(frozen=True)
class AgencyOption:
    id: int
    name: str
    depth: int  # below the tree's top, for indentation


@dataclass(frozen=True)
class HistoryRow:
    event: WorkflowEvent
    who: str  # translated or a person's name
    comment: str


def requestable_agencies(db: Session) -> list[AgencyOption]:
    """Active agencies in tree order: the public may ask for an account at any of them."""
    rows = db.scalars(select(Agency).where(Agency.is_active).order_by(Agency.path)).all()
    depths = {a.id: a.path.count("/") - 2 for a in rows}
    top = min(depths.values(), default=0)
    return [AgencyOption(a.id, a.name, depths[a.id] - top) for a in rows]


def escalation_label(record: AccountRequest) -> str | None:
    """The message id of the record's escalation level (督办, 挂牌督办 …), or None when not escalated."""
    if not record.escalation_level:
        return None
    deadline = workflow.workflow_of(record).deadline(record.state)
    for step in deadline.ladder if deadline is not None else ():
        if step.level == record.escalation_level:
            return step.display
    return None


def _labels() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "state_tones": STATE_TONES,
        "event_labels": EVENT_LABELS,
        "requestable_roles": service.REQUESTABLE_ROLES,
        "escalation_label": escalation_label,
    }


def _history(db: Session, record: AccountRequest, locale: str, *, for_requester: bool) -> list[HistoryRow]:
    """The timeline. The requester sees no escalation steps and no reviewer's account name."""
    events = service.history(db, record)
    if for_requester:
        events = [e for e in events if e.action != "escalate"]
    ids = {e.actor_id for e in events if e.actor_id is not None}
    names: dict[int | None, str] = {}
    if ids:
        names = {uid: name for uid, name in db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}
    rows = []
    for e in events:
        if e.actor_name in REQUESTER_NAMES:
            who = gettext(REQUESTER_NAMES[e.actor_name], locale)
        elif for_requester:
            who = gettext(N_("Reviewer"), locale)
        else:
            who = names.get(e.actor_id, e.actor_name) if e.actor_id is not None else e.actor_name
        # Words the platform wrote (escalation levels, lapse) are message ids; people's are kept as typed.
        comment = e.comment
        if e.actor_name == workflow.SYSTEM:
            comment = gettext(workflow.LEVEL_LABELS.get(comment, comment), locale)
        rows.append(HistoryRow(e, who, comment))
    return rows


# --------------------------------------------------------------------------- public: request


def _new_page(
    request: Request,
    db: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "agencies": requestable_agencies(db),
        "form": form or {"requested_roles": ["officer"]},
        "errors": errors or {},
        "form_error": form_error,
        **_labels(),
    }
    return render(request, "auth/requests_new.html", context, status_code=status_code, headers=headers)


@router.get("/account-requests/new", response_class=HTMLResponse)
def new_request(request: Request, db: SessionDep, user: OptionalPageUser) -> HTMLResponse:
    return _new_page(request, db)


@router.post("/account-requests/new", dependencies=[CsrfProtected])
def submit_request(
    request: Request,
    db: SessionDep,
    user: OptionalPageUser,
    agency_id: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
    requested_roles: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    locale = locale_of(request)
    form = {"agency_id": agency_id, "username": username, "display_name": display_name, "password": password,
            "confirm_password": confirm_password, "requested_roles": requested_roles or [], "reason": reason,
            "phone": phone}
    # Every empty required field at once, so nobody fixes a long form one error at a time.
    errors = {f: gettext(N_("This field is required."), locale) for f in REQUIRED_FIELDS if not str(form[f]).strip()}
    if agency_id.strip() and not agency_id.strip().isdigit():
        errors["agency_id"] = gettext(N_("No such agency."), locale)
    if not requested_roles:
        errors["requested_roles"] = gettext(N_("Choose at least one role."), locale)
    if password and confirm_password and password != confirm_password:
        errors["confirm_password"] = gettext(N_("The two passwords do not match."), locale)
    if errors:
        return _new_page(request, db, form=form, errors=errors, status_code=422)
    ip = request.client.host if request.client else None
    try:
        record, token = service.submit_request(
            db, agency_id=int(agency_id), username=username, display_name=display_name, password=password,
            requested_roles=requested_roles or [], reason=reason, phone=phone, ip=ip)
    except Invalid as exc:
        db.rollback()
        return _new_page(request, db, form=form, errors=field_errors(exc, locale), status_code=422)
    except TooManyRequests as exc:
        retry = exc.details.get("retry_after", 3600) if isinstance(exc.details, dict) else 3600
        return _new_page(request, db, form=form, form_error=exc.localized(locale), status_code=429,
                         headers={"Retry-After": str(retry)})
    context = {"record": record, "token": token, **_labels()}
    return render(request, "auth/requests_submitted.html", context, status_code=201, headers=NO_STORE)


# --------------------------------------------------------------------------- public: status


def _lookup_page(
    request: Request, *, request_id: str = "", form_error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    context = {"request_id": request_id, "form_error": form_error}
    return render(request, "auth/requests_lookup.html", context, status_code=status_code, headers=NO_STORE)


def _status_page(
    request: Request,
    db: Session,
    record: AccountRequest,
    token: str,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    locale = locale_of(request)
    context = {
        "record": record,
        "token": token,
        "history": _history(db, record, locale, for_requester=True),
        "can_resubmit": "resubmit" in service.allowed_actions(record, None),
        "form": form or {"display_name": record.display_name, "reason": record.reason,
                         "requested_roles": record.requested_roles, "comment": ""},
        "masked_phone": mask_phone(record.phone),
        "errors": errors or {},
        "notice": notice,
        **_labels(),
    }
    return render(request, "auth/requests_status.html", context, status_code=status_code, headers=NO_STORE)


def _parse_id(value: str) -> int | None:
    value = value.strip().lstrip("#")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _not_found(request: Request, request_id: str) -> HTMLResponse:
    # The same answer for a wrong number and a wrong token: nothing about other requests leaks.
    message = gettext(N_("No request matches this number and access token. Check both and try again."),
                      locale_of(request))
    return _lookup_page(request, request_id=request_id, form_error=message, status_code=404)


@router.get("/account-requests/status", response_class=HTMLResponse)
def status_form(
    request: Request, user: OptionalPageUser, id: Annotated[str, Query()] = ""
) -> HTMLResponse:
    return _lookup_page(request, request_id=str(_parse_id(id) or ""))


@router.post("/account-requests/status", dependencies=[CsrfProtected])
def status_lookup(
    request: Request,
    db: SessionDep,
    user: OptionalPageUser,
    request_id: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
) -> Response:
    number = _parse_id(request_id)
    if number is None or not token.strip():
        return _not_found(request, request_id)
    try:
        record = service.status_for_requester(db, request_id=number, token=token.strip())
    except NotFound:
        return _not_found(request, request_id)
    return _status_page(request, db, record, token.strip())


@router.post("/account-requests/status/resubmit", dependencies=[CsrfProtected])
def resubmit(
    request: Request,
    db: SessionDep,
    user: OptionalPageUser,
    request_id: Annotated[int, Form()],
    token: Annotated[str, Form()],
    version: Annotated[int, Form()],
    display_name: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    requested_roles: Annotated[list[str] | None, Form()] = None,
    comment: Annotated[str, Form()] = "",
) -> Response:
    form = {"display_name": display_name, "reason": reason, "requested_roles": requested_roles or [],
            "comment": comment}
    try:
        record = service.resubmit(
            db, request_id=request_id, token=token, version=version, comment=comment,
            display_name=display_name, reason=reason, phone=phone.strip() or None,  # blank keeps the number
            requested_roles=requested_roles or [])
    except NotFound:
        return _not_found(request, str(request_id))
    except Invalid as exc:
        db.rollback()
        record = service.status_for_requester(db, request_id=request_id, token=token)
        return _status_page(request, db, record, token, form=form,
                            errors=field_errors(exc, locale_of(request)), status_code=422)
    notice = gettext(N_("Your request has been sent back for review."), locale_of(request))
    return _status_page(request, db, record, token, notice=notice)


# --------------------------------------------------------------------------- admins


def _int(value: str, default: int = 1) -> int:
    return int(value) if value.isdigit() and 0 < int(value) < 1_000_000 else default


@router.get("/account-requests", response_class=HTMLResponse)
def request_list(
    request: Request,
    db: SessionDep,
    user: PageUser,
    state: Annotated[str, Query()] = "",
    overdue: Annotated[str, Query()] = "",
    page: Annotated[str, Query()] = "1",
) -> HTMLResponse:
    number = _int(page)
    rows, total = service.list_requests(db, actor=user, state=state or None, overdue=bool(overdue),
                                        offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    context = {
        "rows": rows,
        "total": total,
        "state": state,
        "overdue": bool(overdue),
        "page": number,
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        "states": list(STATE_LABELS),
        "today_local": workflow.local_today(),
        **_labels(),
    }
    return render(request, "auth/requests_list.html", context)


def _button_order(action: str) -> int:
    order = list(BUTTON_LABELS)
    return order.index(action) if action in order else len(order)


def _detail_page(
    request: Request,
    db: Session,
    record: AccountRequest,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    comment: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    actions = service.allowed_actions(record, user)
    created_link = None
    if record.created_user_id is not None and page_exists(request, f"/users/{record.created_user_id}"):
        created_link = f"/users/{record.created_user_id}"
    context = {
        "record": record,
        "masked_phone": mask_phone(record.phone),
        "history": _history(db, record, locale_of(request), for_requester=False),
        "actions": [(a, BUTTON_LABELS.get(a, a)) for a in sorted(actions, key=_button_order)],
        "needs_comment": sorted(NEEDS_COMMENT & set(actions)),
        "created_link": created_link,
        "errors": errors or {},
        "comment": comment,
        "today_local": workflow.local_today(),
        **_labels(),
    }
    return render(request, "auth/requests_detail.html", context, status_code=status_code)


@router.get("/account-requests/{request_id:int}", response_class=HTMLResponse)
def request_detail(request: Request, request_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    record = service.get_request(db, request_id=request_id, actor=user)
    return _detail_page(request, db, record, user)


@router.post("/account-requests/{request_id:int}/decide", dependencies=[CsrfProtected])
def request_decide(
    request: Request,
    request_id: int,
    db: SessionDep,
    user: PageUser,
    action: Annotated[str, Form()],
    version: Annotated[int, Form()],
    comment: Annotated[str, Form()] = "",
) -> Response:
    """One of the allowed actions; a stale ``version`` is refused (409 page), never overwritten."""
    try:
        record = service.decide(db, request_id=request_id, action=action, comment=comment, version=version,
                                actor=user)
    except Invalid as exc:
        db.rollback()
        record = service.get_request(db, request_id=request_id, actor=user)
        return _detail_page(request, db, record, user, errors=field_errors(exc, locale_of(request)),
                            comment=comment, status_code=422)
    flash(request, DONE_MESSAGES.get(action, N_("Saved.")), username=record.username)
    return RedirectResponse(f"/account-requests/{record.id}", status_code=303)

