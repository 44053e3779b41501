"""JSON routes of the entity registry under /api/v1/entities. Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep
from jianguan.entities import search, service
from jianguan.entities.models import EntityLicence
from jianguan.entities.schemas import (
    EntityFields,
    EntityRead,
    EntityUpdate,
    History,
    LicenceGrant,
    LicenceGranted,
    LicenceIn,
    LicenceRead,
    TagIn,
    TagRead,
    ValueChange,
)

router = APIRouter(prefix="/entities", tags=["entities"])


def filters_dep(
    q: str | None = None, region_code: str | None = None, industry_code: str | None = None,
    kind: str | None = None, status: str | None = None, credit_class: str | None = None,
    risk_level: str | None = None, tag: str | None = None, sort: str = "name",
) -> search.Filters:
    return search.Filters(q=q, region_code=region_code, industry_code=industry_code, kind=kind,
                          status=status, credit_class=credit_class, risk_level=risk_level, tag=tag,
                          sort=sort)


FiltersDep = Annotated[search.Filters, Depends(filters_dep)]


@router.get("", response_model=Page[EntityRead])
def list_entities(db: SessionDep, user: CurrentUser, filters: FiltersDep,
                  page: Annotated[PageParams, Depends(page_params)]) -> Page[Any]:
    rows, total = search.search_entities(db, actor=user, filters=filters, offset=page.offset,
                                         limit=page.limit)
    return Page(items=[search.entity_dict(e) for e in rows], total=total or 0, offset=page.offset,
                limit=page.limit)


@router.get("/export", response_class=Response)
def export(db: SessionDep, user: CurrentUser, filters: FiltersDep,
           fmt: Annotated[str, Query(alias="format")] = "xlsx") -> Response:
    body = search.export_entities(db, actor=user, filters=filters, fmt=fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="entities.{fmt}"'})


@router.post("", response_model=EntityRead, status_code=201)
def create(body: EntityFields, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    entity = service.create_entity(db, data=body.data(), actor=user)
    return search.entity_dict(entity)


@router.post("/licences", response_model=LicenceGranted, status_code=201)
def grant(body: LicenceGrant, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """For the licensing system (token-authenticated): a granted licence puts the entity under supervision."""
    entity, licence = service.grant_licence(db, uscc_code=body.uscc, entity=body.entity.data(),
                                            licence=body.licence.model_dump(), actor=user)
    db.flush()
    return {"entity": search.entity_dict(entity), "licence": LicenceRead.model_validate(licence)}


@router.get("/{entity_id}", response_model=EntityRead)
def get(entity_id: int, db: SessionDep, user: CurrentUser, purpose: str | None = None) -> dict[str, Any]:
    return search.read_entity(db, entity_id=entity_id, actor=user, purpose=purpose)


@router.patch("/{entity_id}", response_model=EntityRead)
def patch(entity_id: int, body: EntityUpdate, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    data = body.data()
    version = data.pop("version")
    data.pop("reason", None)
    entity = service.update_entity(db, entity_id=entity_id, data=data, version=version, actor=user)
    return search.entity_dict(entity)


@router.get("/{entity_id}/history", response_model=History)
def history(entity_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return service.history(db, entity_id=entity_id, actor=user)


@router.post("/{entity_id}/credit", response_model=EntityRead)
def change_credit(entity_id: int, body: ValueChange, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    service.require_writer(user)
    entity = service.get_entity(db, entity_id=entity_id, actor=user)
    service.set_credit(db, entity=entity, value=body.value, on=body.on, reason=body.reason, actor=user)
    return search.entity_dict(entity)


@router.post("/{entity_id}/risk", response_model=EntityRead)
def change_risk(entity_id: int, body: ValueChange, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    service.require_writer(user)
    entity = service.get_entity(db, entity_id=entity_id, actor=user)
    service.set_risk(db, entity=entity, value=body.value, on=body.on, reason=body.reason, actor=user)
    return search.entity_dict(entity)


@router.get("/{entity_id}/licences", response_model=list[LicenceRead])
def licences(entity_id: int, db: SessionDep, user: CurrentUser) -> list[EntityLicence]:
    return list(service.get_entity(db, entity_id=entity_id, actor=user).licences)


@router.post("/{entity_id}/licences", response_model=LicenceRead, status_code=201)
def add_licence(entity_id: int, body: LicenceIn, db: SessionDep, user: CurrentUser) -> EntityLicence:
    service.require_writer(user)
    entity = service.get_entity(db, entity_id=entity_id, actor=user)
    licence = service.upsert_licence(db, entity=entity, data=body.model_dump(), actor=user)
    db.flush()
    return licence


@router.get("/{entity_id}/tags", response_model=list[TagRead])
def tags(entity_id: int, db: SessionDep, user: CurrentUser) -> list[Any]:
    return list(service.get_entity(db, entity_id=entity_id, actor=user).tags)


@router.post("/{entity_id}/tags", response_model=list[TagRead], status_code=201)
def add_tag(entity_id: int, body: TagIn, db: SessionDep, user: CurrentUser) -> list[Any]:
    service.require_writer(user)
    entity = service.get_entity(db, entity_id=entity_id, actor=user)
    service.add_tag(db, entity=entity, tag=body.tag, since=body.since, actor=user)
    return list(entity.tags)


@router.delete("/{entity_id}/tags/{tag}", response_model=list[TagRead])
def end_tag(entity_id: int, tag: str, db: SessionDep, user: CurrentUser) -> list[Any]:
    service.require_writer(user)
    entity = service.get_entity(db, entity_id=entity_id, actor=user)
    service.end_tag(db, entity=entity, tag=tag, actor=user)
    return list(entity.tags)
