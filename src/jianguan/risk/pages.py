"""The risk centre's pages: an entity's risk profile (score, level, why, history, incidents) and the
incident register. Thin: the services decide."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import SHANGHAI, today_shanghai
from jianguan.deps import SessionDep
from jianguan.entities import service as entities
from jianguan.risk import learning, service, warning_pages, warnings
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import form_date, page_step, render

router = APIRouter(include_in_schema=False)
router.include_router(warning_pages.router)  # the warning centre and the rule pages
LEVELS = {"red": N_("High risk (red)"), "yellow": N_("Medium risk (yellow)"), "blue": N_("Low risk (blue)")}
KINDS = {"major_accident": N_("Major accident"), "serious_environmental": N_("Serious environmental violation"),
         "data_breach": N_("Data breach"), "other": N_("Other major event")}
SEVERITIES = {"major": N_("Major"), "serious": N_("Serious"), "general": N_("General")}


def _chart_data(explained: dict[str, Any], scores: list[Any]) -> str:
    """What the charts draw, as JSON in the page (the tables beside them say the same without JavaScript)."""
    parts = [p for p in explained.get("indicators", []) if p["contribution"] > 0]
    history = [{"at": s.scored_at.astimezone(SHANGHAI).date().isoformat(),
                "score": float(s.score), "level": s.level} for s in reversed(scores)]
    return json.dumps({"parts": [{"name": p["name"], "value": p["contribution"]} for p in parts],
                       "history": history, "thresholds": explained.get("thresholds", {})}, ensure_ascii=False)


@router.get("/risk", response_class=HTMLResponse)
def overview(request: Request, db: SessionDep, user: PageUser, level: str = "") -> HTMLResponse:
    """The risk centre's front page: how many entities at each level, and the highest scores first."""
    level = level if level in LEVELS else ""
    return render(request, "risk/index.html", {
        "counts": service.level_counts(db, actor=user), "rows": service.highest(db, actor=user, level=level),
        "open": warnings.open_counts(db, actor=user),
        "level": level, "levels": LEVELS})


@router.get("/risk/entities/{entity_id:int}", response_class=HTMLResponse)
def profile(request: Request, entity_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    entity = entities.get_entity(db, entity_id=entity_id, actor=user)
    explained = service.explain(db, entity=entity, actor=user)
    scores = service.history(db, entity_id=entity.id, limit=60)
    return render(request, "risk/profile.html", {
        "e": entity, "x": explained, "scores": scores, "levels": LEVELS, "kinds": KINDS, "severities": SEVERITIES,
        "incidents": service.incidents(db, actor=user, entity_id=entity.id), "chart": _chart_data(explained, scores),
        "warnings": warnings.listing(db, actor=user, entity_id=entity.id, limit=20)[0],
        "may_record": user.has_role("officer", "leader", "agency_admin", "system_admin"),
        "today": today_shanghai()})


@router.post("/risk/entities/{entity_id:int}/incidents", dependencies=[CsrfProtected])
async def record_incident(request: Request, entity_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    with page_step(request, db, N_("Incident recorded; the entity has been re-scored.")):
        entity = entities.get_entity(db, entity_id=entity_id, actor=user)
        on = form_date("occurred_on", str(form.get("occurred_on") or ""))
        if on is None:
            raise Invalid("occurred_on", N_("Give the day it happened."))
        service.record_incident(db, entity=entity, kind=str(form.get("kind") or ""),
                                severity=str(form.get("severity") or ""), occurred_on=on,
                                source=str(form.get("source") or "").strip(),
                                description=str(form.get("description") or "").strip(), actor=user)
    return RedirectResponse(f"/risk/entities/{entity_id}#incidents", status_code=303)


@router.post("/risk/incidents/{incident_id:int}/withdraw", dependencies=[CsrfProtected])
async def withdraw_incident(request: Request, incident_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    back = "/risk/incidents"
    with page_step(request, db, N_("Incident withdrawn; the entity has been re-scored.")):
        incident = service.withdraw_incident(db, incident_id=incident_id, reason=str(form.get("reason") or ""),
                                             actor=user)
        back = f"/risk/entities/{incident.entity_id}#incidents"
    return RedirectResponse(back, status_code=303)


@router.get("/risk/incidents", response_class=HTMLResponse)
def incident_register(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "risk/incidents.html", {
        "rows": service.incidents(db, actor=user, limit=500), "kinds": KINDS, "severities": SEVERITIES})


@router.get("/risk/model", response_class=HTMLResponse)
def model_page(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    """The learned pre-screening model's evaluation on held-out inspections, against the rule score."""
    models = learning.history(db)
    chosen = models[0] if models else None
    curves = {}
    if chosen is not None and chosen.evaluation.get("model"):
        ev = chosen.evaluation
        curves = {"roc": {"model": ev["model"]["roc"], "rule": ev["rule"]["roc"]},
                  "gain": {"model": [[g["share"], g["lift"]] for g in ev["model"]["gain"]],
                           "rule": [[g["share"], g["lift"]] for g in ev["rule"]["gain"]]}}
    return render(request, "risk/model.html", {
        "models": models, "m": chosen, "curves": json.dumps(curves), "may_train": user.has_role("system_admin"),
        "split_day": chosen.trained_to + dt.timedelta(days=1) if chosen else None})


@router.post("/risk/model/train", dependencies=[CsrfProtected])
async def train_model(request: Request, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    with page_step(request, db, N_("Model trained and evaluated on the held-out inspections.")):
        if not user.has_role("system_admin"):
            raise Forbidden(N_("Only system administrators train the model."))
        start, split_on, end = (form_date(f, str(form.get(f) or "")) for f in ("start", "split_on", "end"))
        for name, day in (("start", start), ("split_on", split_on), ("end", end)):
            if day is None:
                raise Invalid(name, N_("Give the three dates: start, split and end."))
        assert start is not None and split_on is not None and end is not None
        learning.train(db, split_on=split_on, start=start, end=end, actor=user)
    return RedirectResponse("/risk/model", status_code=303)


from jianguan.risk import credit_pages  # noqa: E402  (credit feedback pages: /risk/credit…)

router.include_router(credit_pages.router)
