"""JSON routes for officers and credentials, and the public 查证 endpoint (no sign-in, rate-limited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from jianguan.core.errors import NotFound
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, LocaleDep, SessionDep
from jianguan.officers import credentials, roster
from jianguan.officers.models import Credential

router = APIRouter(tags=["officers"])


class OfficerCreate(BaseModel):
    agency_id: int
    name: str = Field(examples=["王建国"])
    id_number: str | None = Field(default=None, description="Restricted: stored encrypted, shown masked.")
    phone: str | None = None
    gender: str | None = Field(default=None, examples=["male"])
    domains: list[str] = Field(default_factory=list, examples=[["market", "food"]])
    qualifications: list[str] = Field(default_factory=list)
    user_id: int | None = None


class OfficerUpdate(BaseModel):
    version: int = Field(description="The version you read; a stale one is refused with 409.")
    name: str | None = None
    domains: list[str] | None = None
    qualifications: list[str] | None = None
    is_active: bool | None = None
    phone: str | None = None


class CredentialRead(BaseModel):
    id: int
    number: str
    officer_id: int
    domains: list[str]
    issued_on: dt.date
    expires_on: dt.date
    status: str
    valid_today: bool
    reason: str
    issuer: str
    version: int


class OfficerRead(BaseModel):
    id: int
    name: str
    agency_id: int
    agency_name: str
    region_code: str
    id_number: str | None
    phone: str | None
    gender: str | None
    domains: list[str]
    qualifications: list[str]
    user_id: int | None
    is_active: bool
    version: int
    credentials: list[CredentialRead] = Field(default_factory=list)


class CredentialIssue(BaseModel):
    number: str = Field(examples=["33010620260001"])
    domains: list[str]
    issued_on: dt.date
    expires_on: dt.date
    issuer: str = ""
    reason: str = ""


class CredentialChange(BaseModel):
    version: int
    reason: str


class CredentialRenew(BaseModel):
    version: int
    expires_on: dt.date
    reason: str = ""
    domains: list[str] | None = None


class VerifyRead(BaseModel):
    number: str
    name: str
    agency: str
    domains: list[str]
    domain_names: list[str]
    issued_on: dt.date
    expires_on: dt.date
    valid: bool
    reason: str = Field(description="ok, expired, not_yet_valid, suspended or revoked")
    reason_text: str
    checked_on: dt.date


def credential_read(credential: Credential) -> CredentialRead:
    from jianguan.core.workdays import today_shanghai

    valid, reason = credentials.credential_validity(credential, today_shanghai())
    return CredentialRead(id=credential.id, number=credential.number, officer_id=credential.officer_id,
                          domains=credential.domains, issued_on=credential.issued_on,
                          expires_on=credential.expires_on, status=credential.status, valid_today=valid,
                          reason=reason, issuer=credential.issuer, version=credential.version)


def officer_read(officer: Any, viewer: Any) -> OfficerRead:
    return OfficerRead(**roster.officer_view(officer, viewer),
                       credentials=[credential_read(c) for c in officer.credentials])


@router.get("/officers", response_model=Page[OfficerRead])
def list_officers(
    db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(description="Name or credential number contains")] = None,
    agency_id: int | None = None, domain: str | None = None,
) -> Page[OfficerRead]:
    rows, total = roster.list_officers(db, actor=user, q=q, agency_id=agency_id, domain=domain,
                                       offset=page.offset, limit=page.limit)
    return Page(items=[officer_read(o, user) for o in rows], total=total, offset=page.offset, limit=page.limit)


@router.get("/officers/{officer_id}", response_model=OfficerRead)
def get_officer(officer_id: int, db: SessionDep, user: CurrentUser) -> OfficerRead:
    return officer_read(roster.get_officer(db, officer_id=officer_id, actor=user), user)


@router.post("/officers", response_model=OfficerRead, status_code=201)
def create_officer(body: OfficerCreate, db: SessionDep, user: CurrentUser) -> OfficerRead:
    return officer_read(roster.create_officer(db, actor=user, **body.model_dump()), user)


@router.patch("/officers/{officer_id}", response_model=OfficerRead)
def update_officer(officer_id: int, body: OfficerUpdate, db: SessionDep, user: CurrentUser) -> OfficerRead:
    fields = body.model_dump(exclude_unset=True)
    version = fields.pop("version")
    officer = roster.update_officer(db, officer_id=officer_id, version=version, actor=user, **fields)
    return officer_read(officer, user)


@router.post("/officers/{officer_id}/credentials", response_model=CredentialRead, status_code=201)
def issue_credential(officer_id: int, body: CredentialIssue, db: SessionDep, user: CurrentUser) -> CredentialRead:
    return credential_read(credentials.issue_credential(db, officer_id=officer_id, actor=user, **body.model_dump()))


@router.post("/credentials/{credential_id}/renew", response_model=CredentialRead)
def renew(credential_id: int, body: CredentialRenew, db: SessionDep, user: CurrentUser) -> CredentialRead:
    return credential_read(credentials.renew_credential(db, credential_id=credential_id, actor=user,
                                                        **body.model_dump()))


@router.post("/credentials/{credential_id}/{action}", response_model=CredentialRead)
def change_status(credential_id: int, action: str, body: CredentialChange, db: SessionDep,
                  user: CurrentUser) -> CredentialRead:
    change = {"suspend": credentials.suspend_credential, "reinstate": credentials.reinstate_credential,
              "revoke": credentials.revoke_credential}.get(action)
    if change is None:
        raise NotFound()
    return credential_read(change(db, credential_id=credential_id, version=body.version, reason=body.reason,
                                  actor=user))


@router.get("/credentials/{number}/verify", response_model=VerifyRead,
            responses={404: {"description": "未查到该执法证"}, 429: {"description": "Too many lookups"}})
def verify(number: str, request: Request, db: SessionDep, locale: LocaleDep) -> Any:
    """Public 查证: anyone, no sign-in; rate-limited per IP (30 a minute)."""
    credentials.check_verify_rate(db, ip=request.client.host if request.client else "")
    try:
        result = credentials.verify(db, number, locale=locale)
    except NotFound as error:
        # Answered here, not raised: the lookup must still be counted (the session commits).
        return JSONResponse({"error": error.to_dict(locale)}, status_code=404)
    return VerifyRead(**result.as_dict())
