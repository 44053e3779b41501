"""JSON routes of the catalog under /api/v1/catalog. Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from jianguan.catalog import checklists, indicators, service
from jianguan.catalog.schemas import (
    ChecklistIn,
    Decision,
    DraftEdit,
    ExitIn,
    PointAdd,
    PointDrop,
    ProposalIn,
    RevisionIn,
    TemplateIn,
    WeightsIn,
    point_dict,
    version_dict,
)
from jianguan.core import workflow
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep
from jianguan.entities import service as entities
from jianguan.reference import laws

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/items", response_model=Page[dict[str, Any]])
def list_items(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
               q: str = "", domain: str = "", status: str = "", key_item: bool | None = None,
               object_kind: str = "") -> Page[Any]:
    rows, total = service.list_items(db, q=q, domain=domain, status=status, key_item=key_item,
                                     object_kind=object_kind, offset=page.offset, limit=page.limit)
    items = [{**version_dict(r.version, points=False), "status": r.item.status, "children": r.children,
              "parent": r.item.parent.code if r.item.parent else None} for r in rows]
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)


@router.get("/items/{item_id}")
def get_item(item_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    item = service.get_item(db, item_id=item_id)
    versions = service.history(db, item)
    return {"id": item.id, "code": item.code, "status": item.status, "current": item.current_number,
            "versions": [{**version_dict(v), "actions": workflow.allowed_actions(v, user)} for v in versions]}


@router.get("/items/{item_id}/diff")
def diff(item_id: int, db: SessionDep, user: CurrentUser, a: int, b: int) -> list[dict[str, Any]]:
    item = service.get_item(db, item_id=item_id)
    by_number = {v.number: v for v in service.history(db, item)}
    if a not in by_number or b not in by_number:
        raise NotFound(N_("No such catalog item version."))
    return [c.__dict__ for c in service.diff(by_number[a], by_number[b])]


@router.post("/items", status_code=201)
def propose(body: ProposalIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return version_dict(service.propose_item(db, data=body.item, reason=body.reason, actor=user))


@router.post("/items/{item_id}/versions", status_code=201)
def revise(item_id: int, body: RevisionIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return version_dict(service.revise_item(db, item_id=item_id, changes=body.changes, reason=body.reason,
                                            actor=user))


@router.post("/items/{item_id}/exit", status_code=201)
def propose_exit(item_id: int, body: ExitIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return version_dict(service.propose_exit(db, item_id=item_id, reason=body.reason, actor=user))


@router.patch("/versions/{version_id}")
def edit_draft(version_id: int, body: DraftEdit, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return version_dict(service.update_draft(db, version_id=version_id, changes=body.changes,
                                             expected_version=body.version, actor=user))


@router.post("/versions/{version_id}/decide")
def decide(version_id: int, body: Decision, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    version = service.decide(db, version_id=version_id, action=body.action, comment=body.comment,
                             expected_version=body.version, actor=user)
    return {**version_dict(version, points=False), "actions": workflow.allowed_actions(version, user)}


@router.get("/approvals")
def approvals(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [{**version_dict(v, points=False), "actions": workflow.allowed_actions(v, user)}
            for v in service.approval_queue(db, actor=user)]


@router.get("/negative-list")
def negative_list(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [{"code": e.code, "matter": e.matter, "reason": e.reason, "keywords": e.keywords,
             "item_codes": e.item_codes, "legal_basis": f"{e.law_title}{e.article_no}" if e.law_slug else ""}
            for e in service.active_negative_list(db)]


@router.get("/joint-candidates")
def joint_candidates(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [{"a": {"code": c.a.item.code, "name": c.a.name, "domain": c.a.item.domain},
             "b": {"code": c.b.item.code, "name": c.b.name, "domain": c.b.item.domain},
             "object_kinds": c.object_kinds, "overlaps": [list(o) for o in c.overlaps]}
            for c in service.joint_candidates(db)]


@router.get("/laws/search")
def law_search(db: SessionDep, user: CurrentUser, q: str = "", law: str = "",
               limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    """For the legal-basis picker: articles of the law library containing ``q``."""
    return [{"law": a.law.slug, "title": a.law.title, "article": a.article_no, "text": a.text,
             "in_force_today": a.law.in_force_on(workflow.local_today())} for a in laws.search(q, slug=law,
                                                                                                 limit=limit)]


# --------------------------------------------------------------------------- templates and checklists


@router.get("/templates")
def templates(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [{"id": t.id, "code": t.code, "name": v.name, "number": v.number, "status": v.status,
             "priority": v.priority, "simplified": v.simplified, "applies": v.applies, "items": v.item_codes,
             "points": len(v.points)} for t, v in checklists.list_templates(db)]


@router.get("/templates/{template_id}")
def template(template_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    found = checklists.get_template(db, template_id=template_id)
    version = checklists.draft_of(db, found) or checklists.current_template_version(db, found)
    if version is None:
        raise NotFound(N_("No such checklist template."))
    points = checklists.points_in_force(db, [p.point_code for p in version.points])
    return {"id": found.id, "code": found.code, "name": version.name, "number": version.number,
            "status": version.status, "version": version.version, "applies": version.applies,
            "items": version.item_codes, "priority": version.priority, "simplified": version.simplified,
            "points": [{"section": p.section, "code": p.point_code, "mandatory": p.mandatory, "when": p.when,
                        "point": point_dict(points[p.point_code]) if p.point_code in points else None}
                       for p in version.points]}


@router.put("/templates")
def save_template(body: TemplateIn, db: SessionDep, user: CurrentUser, publish: bool = False,
                  version: int | None = None) -> dict[str, Any]:
    saved = checklists.save_template(db, data=body, actor=user, expected_version=version, publish=publish)
    return {"id": saved.template_id, "number": saved.number, "status": saved.status, "version": saved.version}


@router.post("/checklists", status_code=201)
def create_checklist(body: ChecklistIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    entity = entities.find(db, uscc_code=body.uscc)
    if entity is None:
        raise Invalid("uscc", N_("No entity with USCC {uscc}."), uscc=body.uscc)
    entities.get_entity(db, entity_id=entity.id, actor=user)  # scope
    return _checklist(checklists.create(db, entity=entity, item_codes=body.items, actor=user))


def _checklist(c: Any) -> dict[str, Any]:
    return {"id": c.id, "entity_id": c.entity_id, "items": c.item_codes, "reasons": c.reasons, "version": c.version,
            "points": [{"section": p.section, "mandatory": p.mandatory, "reason": p.reason,
                        "added_by": p.added_by, "item": p.check_point.version.item.code,
                        "item_version": p.check_point.version.number, **point_dict(p.check_point)}
                       for p in c.points]}


@router.get("/checklists/{checklist_id}")
def get_checklist(checklist_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    found = checklists.get_checklist(db, checklist_id=checklist_id)
    entities.get_entity(db, entity_id=found.entity_id, actor=user)  # scope
    return _checklist(found)


@router.post("/checklists/{checklist_id}/points", status_code=201)
def add_point(checklist_id: int, body: PointAdd, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    found = checklists.get_checklist(db, checklist_id=checklist_id)
    entities.get_entity(db, entity_id=found.entity_id, actor=user)
    checklists.add_point(db, checklist_id=checklist_id, code=body.code, section=body.section,
                         expected_version=body.version, actor=user)
    return _checklist(found)


@router.post("/checklists/{checklist_id}/points/drop")
def drop_point(checklist_id: int, body: PointDrop, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    found = checklists.get_checklist(db, checklist_id=checklist_id)
    entities.get_entity(db, entity_id=found.entity_id, actor=user)
    checklists.remove_point(db, checklist_id=checklist_id, code=body.code, reason=body.reason, actor=user)
    return _checklist(found)


# --------------------------------------------------------------------------- indicators


@router.get("/indicators")
def indicator_tree(db: SessionDep, user: CurrentUser, year: int = 2026) -> list[dict[str, Any]]:
    def node(n: indicators.Node) -> dict[str, Any]:
        i = n.indicator
        return {"code": i.code, "name": i.name, "weight": n.weight, "definition": i.definition,
                "data_source": i.data_source, "scoring_method": i.scoring_method,
                "children": [node(c) for c in n.children]}

    return [node(n) for n in indicators.tree(db, year=year)]


@router.put("/indicators/weights/{year}")
def set_weights(year: int, body: WeightsIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    indicators.set_weights(db, year=year, weights=body.weights, actor=user)
    return {"year": year, "weights": {k: str(v) for k, v in body.weights.items()}}
