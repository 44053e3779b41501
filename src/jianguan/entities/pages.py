"""统一监管对象库 pages: the entity search (filters, sort, pages; cards on a phone) and the entity page
(summary, credit/risk history, licences, tags, timeline). Restricted fields are always masked here."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.entities import codes, search, service
from jianguan.entities import timeline as entity_timeline
from jianguan.entities.models import Entity
from jianguan.entities.timeline import Event
from jianguan.officers.models import Agency
from jianguan.web.deps import PageUser
from jianguan.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
SORT_CHOICES = {"name": N_("Name"), "-updated_at": N_("Recently updated"), "region_code": N_("Region"),
                "industry_code": N_("Industry"), "credit_class": N_("Credit class"),
                "-risk_level": N_("Risk level"), "-established_on": N_("Newest first")}
DOMAINS = ("entity_kind", "entity_status", "enterprise_scale", "credit_class", "risk_level", "licence_type",
           "entity_tag", "credential_status")


def _labels(db: Session) -> dict[str, dict[str, str]]:
    return {d: codes.labels(db, d) for d in DOMAINS}


@router.get("/entities", response_class=HTMLResponse)
def entities_home(
    request: Request, db: SessionDep, user: PageUser,
    q: Annotated[str | None, Query()] = None, region_code: Annotated[str | None, Query()] = None,
    industry_code: Annotated[str | None, Query()] = None, kind: Annotated[str | None, Query()] = None,
    credit_class: Annotated[str | None, Query()] = None, risk_level: Annotated[str | None, Query()] = None,
    tag: Annotated[str | None, Query()] = None, sort: Annotated[str, Query()] = "name",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    if sort.lstrip("-") not in search.SORTS:
        sort = "name"
    filters = search.Filters(q=q or None, region_code=region_code or None, industry_code=industry_code or None,
                             kind=kind or None, credit_class=credit_class or None,
                             risk_level=risk_level or None, tag=tag or None, sort=sort)
    error = None
    try:
        rows, total = search.search_entities(db, actor=user, filters=filters, offset=(page - 1) * PAGE_SIZE,
                                             limit=PAGE_SIZE)
    except Invalid as exc:  # an invalid filter: show the message, keep the form
        rows, total, error = [], 0, exc
    params = filters.as_dict()
    total = total or 0
    return render(request, "entities/index.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        "f": params, "sort": sort, "sorts": SORT_CHOICES, "labels": _labels(db), "error": error,
        "query": urlencode({k: v for k, v in params.items() if k != "sort"}),
        "region_name": lambda c: codes.region_name(db, c),
        "industry_name": lambda c: codes.industry_name(db, c),
        "can_import": user.has_role(*service.WRITE_ROLES),
    })


def timeline(db: Session, entity: Entity, history: dict[str, list[dict[str, Any]]],
             labels: dict[str, dict[str, str]], actor: User) -> list[Event]:
    """Registration and supervision events, and what other domains add (entities/timeline.py)."""
    events: list[Event] = entity_timeline.from_domains(db, entity_id=entity.id, actor=actor)
    if entity.established_on:
        events.append(Event(entity.established_on, "registration", N_("Registered")))
    if entity.closed_on:
        events.append(Event(entity.closed_on, "registration", N_("Closed")))
    if entity.under_supervision_since:
        events.append(Event(entity.under_supervision_since, "supervision", N_("Under supervision")))
    for lic in entity.licences:
        if lic.valid_from:
            events.append(Event(lic.valid_from, "licence", N_("Licence granted"),
                                f"{labels['licence_type'].get(lic.licence_type, lic.licence_type)} {lic.number}"))
    for key, domain, text in (("credit", "credit_class", N_("Credit class set")),
                              ("risk", "risk_level", N_("Risk level set"))):
        for row in history[key]:
            events.append(Event(row["valid_from"], key, text, labels[domain].get(row["value"], row["value"])))
    for t in entity.tags:
        if t.since:
            events.append(Event(t.since, "tag", N_("Tagged"), labels["entity_tag"].get(t.tag, t.tag)))
    return sorted(events, key=lambda e: e.day, reverse=True)


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, entity_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    entity = service.get_entity(db, entity_id=entity_id, actor=user)
    view = search.entity_dict(entity)
    history = service.history(db, entity_id=entity_id, actor=user)
    labels = _labels(db)
    from jianguan.risk import service as risk  # the risk centre reads the registry, not the other way

    return render(request, "entities/entity.html", {
        "e": entity, "v": view, "history": history, "labels": labels,
        "risk": risk.explain(db, entity=entity, actor=user),
        "events": timeline(db, entity, history, labels, user), "region": codes.region_name(db, entity.region_code),
        "agency": db.get(Agency, entity.agency_id) if entity.agency_id else None,
        "industry": codes.industry_name(db, entity.industry_code),
        "capital": None if entity.registered_capital is None else f"{entity.registered_capital.normalize():,f}",
    })
