"""JSON routes for accounts, API tokens and agencies. Thin: parse, call the service, shape."""

from __future__ import annotations

import csv
import importlib
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from jianguan import registry
from jianguan.auth import service
from jianguan.auth.models import ApiToken, User
from jianguan.auth.schemas import (
    AgencyCreate,
    AgencyRead,
    AgencyUpdate,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from jianguan.core.masking import mask_id_number, mask_phone
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency

router = APIRouter(tags=["accounts"])


def user_read(user: User, viewer: User) -> UserRead:
    own = user.id == viewer.id
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.roles,
        agency_id=user.agency_id,
        agency_name=user.agency.name if user.agency else None,
        region_code=user.region_code,
        data_scope=user.data_scope,
        is_active=user.is_active,
        id_number=user.id_number if own else mask_id_number(user.id_number),
        phone=user.phone if own else mask_phone(user.phone),
        email=user.email,
        last_login_at=user.last_login_at,
        version=user.version,
    )


@router.get("/auth/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    return user_read(user, user)


@router.post("/auth/password", status_code=204)
def change_password(body: PasswordChange, db: SessionDep, user: CurrentUser) -> Response:
    service.change_password(db, user=user, current_password=body.current_password,
                            new_password=body.new_password)
    return Response(status_code=204)


@router.get("/auth/tokens", response_model=list[TokenRead])
def list_tokens(db: SessionDep, user: CurrentUser) -> list[ApiToken]:
    return service.list_api_tokens(db, user=user)


@router.post("/auth/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, db: SessionDep, user: CurrentUser) -> TokenCreated:
    token, row = service.create_api_token(db, user=user, name=body.name, expires_days=body.expires_days,
                                          actor=user)
    return TokenCreated(token=token, **TokenRead.model_validate(row).model_dump())


@router.delete("/auth/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: int, db: SessionDep, user: CurrentUser) -> ApiToken:
    return service.revoke_api_token(db, token_id=token_id, actor=user)


@router.get("/users", response_model=Page[UserRead])
def list_users(
    db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
    q: Annotated[str | None, Query(description="Username or name contains")] = None,
) -> Page[UserRead]:
    rows, total = service.list_users(db, actor=user, q=q, offset=page.offset, limit=page.limit)
    return Page(items=[user_read(u, user) for u in rows], total=total, offset=page.offset, limit=page.limit)


@router.get("/users/export.csv", response_class=Response)
def export_users(db: SessionDep, user: CurrentUser) -> Response:
    header, rows = service.export_users(db, actor=user)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    # UTF-8 with BOM so Excel opens Chinese names correctly.
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="users.csv"'})


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: int, db: SessionDep, user: CurrentUser) -> UserRead:
    return user_read(service.get_user(db, user_id=user_id, actor=user), user)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, db: SessionDep, user: CurrentUser) -> UserRead:
    created = service.create_user(db, actor=user, **body.model_dump())
    return user_read(created, user)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: int, body: UserUpdate, db: SessionDep, user: CurrentUser) -> UserRead:
    updated = service.update_user(db, user_id=user_id, actor=user, **body.model_dump())
    return user_read(updated, user)


@router.get("/agencies", response_model=list[AgencyRead])
def list_agencies(db: SessionDep, user: CurrentUser) -> list[Agency]:
    return agencies.list_agencies(db, actor=user)


@router.get("/agencies/{agency_id}", response_model=AgencyRead)
def get_agency(agency_id: int, db: SessionDep, user: CurrentUser) -> Agency:
    return agencies.get_agency(db, agency_id=agency_id, actor=user)


@router.post("/agencies", response_model=AgencyRead, status_code=201)
def create_agency(body: AgencyCreate, db: SessionDep, user: CurrentUser) -> Agency:
    return agencies.create_agency(db, actor=user, **body.model_dump())


@router.patch("/agencies/{agency_id}", response_model=AgencyRead)
def update_agency(agency_id: int, body: AgencyUpdate, db: SessionDep, user: CurrentUser) -> Agency:
    return agencies.update_agency(db, agency_id=agency_id, actor=user, **body.model_dump())


# Account requests (a workflow of their own module) share this router's mount.
if registry.has_module("auth", "requests_api"):
    router.include_router(importlib.import_module("jianguan.auth.requests_api").router)
