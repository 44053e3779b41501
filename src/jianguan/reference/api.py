"""JSON routes for reference data: value domains, regions, industries. Read by any signed-in user;
value-domain items edited by a system admin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from jianguan.deps import CurrentUser, SessionDep
from jianguan.reference import service
from jianguan.reference.models import Industry, Region, ValueDomainItem

router = APIRouter(prefix="/reference", tags=["reference"])


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    sort_order: int
    valid_from: dt.date | None
    valid_to: dt.date | None
    is_standard: bool
    version: int


class DomainRead(BaseModel):
    code: str
    name: str
    description: str
    items: list[ItemRead] | None = None
    item_count: int


class ItemCreate(BaseModel):
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    sort_order: int | None = None
    valid_from: dt.date | None = None
    is_standard: bool = True


class ItemUpdate(BaseModel):
    version: int
    name: str | None = None
    sort_order: int | None = None
    valid_to: dt.date | None = None
    retire: bool | None = Field(None, description="false with valid_to null: restore a retired item")


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None


class IndustryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None


@router.get("/value-domains", response_model=list[DomainRead])
def list_domains(db: SessionDep, user: CurrentUser) -> list[DomainRead]:
    return [DomainRead(code=d.code, name=d.name, description=d.description,
                       item_count=len(service.domain_items(db, d.code)))
            for d in service.list_domains(db)]


@router.get("/value-domains/{domain}", response_model=DomainRead)
def show_domain(domain: str, db: SessionDep, user: CurrentUser,
                include_retired: Annotated[bool, Query()] = False) -> DomainRead:
    found = service.get_domain(db, domain)
    items = service.domain_items(db, domain, include_retired=include_retired)
    return DomainRead(code=found.code, name=found.name, description=found.description,
                      items=[ItemRead.model_validate(i) for i in items], item_count=len(items))


@router.post("/value-domains/{domain}/items", response_model=ItemRead, status_code=201)
def add_item(domain: str, body: ItemCreate, db: SessionDep, user: CurrentUser) -> ValueDomainItem:
    return service.add_item(db, domain=domain, code=body.code, name=body.name, sort_order=body.sort_order,
                            valid_from=body.valid_from, is_standard=body.is_standard, actor=user)


@router.patch("/value-domain-items/{item_id}", response_model=ItemRead)
def update_item(item_id: int, body: ItemUpdate, db: SessionDep, user: CurrentUser) -> ValueDomainItem:
    changes: dict[str, Any] = {"name": body.name, "sort_order": body.sort_order}
    if body.retire is True or body.valid_to is not None:
        if body.valid_to is None:
            return service.retire_item(db, item_id=item_id, version=body.version, actor=user)
        changes["valid_to"] = body.valid_to
    elif body.retire is False:
        changes["valid_to"] = None
    return service.update_item(db, item_id=item_id, version=body.version, actor=user, **changes)


@router.get("/regions", response_model=list[RegionRead])
def regions(db: SessionDep, user: CurrentUser, parent: Annotated[str | None, Query()] = None,
            q: Annotated[str | None, Query(max_length=50)] = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[Region]:
    return service.list_regions(db, parent=parent, q=q, limit=limit)


@router.get("/regions/{code}", response_model=list[RegionRead])
def region_path(code: str, db: SessionDep, user: CurrentUser) -> list[Region]:
    """The region with its ancestors, province first."""
    path = service.region_path(db, code)
    if not path:
        from jianguan.core.errors import NotFound

        raise NotFound()
    return path


@router.get("/industries", response_model=list[IndustryRead])
def industries(db: SessionDep, user: CurrentUser, q: Annotated[str | None, Query(max_length=50)] = None,
               level: Annotated[str | None, Query(pattern="^(section|division|group|class)$")] = None,
               parent: Annotated[str | None, Query(max_length=4)] = None,
               limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> list[Industry]:
    return service.list_industries(db, q=q, level=level, parent=parent, limit=limit)


@router.get("/industries/{code}", response_model=list[IndustryRead])
def industry_path(code: str, db: SessionDep, user: CurrentUser) -> list[Industry]:
    """The class (or group…) with its ancestors, section first."""
    path = service.industry_path(db, code)
    if not path:
        from jianguan.core.errors import NotFound

        raise NotFound()
    return path
