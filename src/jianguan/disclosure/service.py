"""Publication records: made when an inspection concludes, listed for publishing, published.

The content is built here, once, from what may be public: the entity's name and code, the item
checked, the date, the result and the problems found (the check point and its legal basis). Never an
officer's or a representative's name, an ID number or a phone number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.config import get_settings
from jianguan.core import workflow
from jianguan.core.errors import NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import local_date
from jianguan.db import utcnow
from jianguan.disclosure import workflow as wf
from jianguan.disclosure.models import Publication

RESULTS = {"no_problem": "未发现问题", "problems": "发现问题，已责令整改"}


def for_inspection(db: Session, inspection: Any, *, actor: User | None) -> Publication:
    """The publication record of a concluded inspection (one per inspection: again returns it)."""
    from jianguan.catalog import service as catalog
    from jianguan.entities.models import Entity

    found = db.scalar(select(Publication).where(Publication.source_type == "inspection",
                                                Publication.source_id == inspection.id))
    if found is not None:
        return found
    entity = db.get(Entity, inspection.entity_id)
    items = []
    for code in inspection.item_codes:
        item = catalog.item_by_code(db, code)
        version = catalog.current_version(db, item) if item is not None else None
        items.append({"code": code, "name": version.name if version is not None else ""})
    problems = [{"text": f.text, "basis": f.basis, "rectify_by": f.rectify_by.isoformat()}
                for f in inspection.findings]
    concluded = local_date(inspection.closed_at or utcnow())
    content = {"entity": entity.name if entity else "", "uscc": entity.uscc if entity else None,
               "region_code": inspection.region_code, "items": items, "inspection_code": inspection.code,
               "kind": inspection.kind, "method": inspection.method,
               "visited_on": local_date(inspection.visit_started_at).isoformat() if inspection.visit_started_at
               else None, "result": RESULTS.get(inspection.result or "", inspection.result or ""),
               "problems": problems}
    record = Publication(source_type="inspection", source_id=inspection.id, agency_id=inspection.agency_id,
                         region_code=inspection.region_code, entity_id=inspection.entity_id,
                         title=f"{content['entity']} 检查结果", content=content, concluded_on=concluded,
                         working_days=get_settings().publication_working_days)
    workflow.start(db, record, workflow=wf.PUBLICATION, actor=actor, payload={"inspection": inspection.code})
    return record


def list_publications(db: Session, *, actor: User, state: str = "", offset: int = 0,
                      limit: int = 50) -> tuple[list[Publication], int]:
    stmt = select(Publication).where(visible(Publication, actor))
    if state:
        stmt = stmt.where(Publication.state == state)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Publication.due_date.is_(None), Publication.due_date, Publication.id)
                      .offset(offset).limit(limit))
    return list(rows), int(total)


def get_publication(db: Session, *, publication_id: int, actor: User | None) -> Publication:
    record = db.get(Publication, publication_id)
    if record is None or (actor is not None and not db.scalar(
            select(Publication.id).where(Publication.id == publication_id, visible(Publication, actor)))):
        raise NotFound(N_("No such publication record."))
    return record


def decide(db: Session, *, publication_id: int, action: str, comment: str = "", expected_version: int | None = None,
           actor: User | None) -> Publication:
    record = get_publication(db, publication_id=publication_id, actor=actor)
    workflow.act(db, record, action=action, actor=actor, comment=comment, expected_version=expected_version)
    return record
