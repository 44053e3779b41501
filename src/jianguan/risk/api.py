"""Risk scores and the incident register over HTTP, under /api/v1/risk. Thin: the services decide."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from jianguan.core.errors import Forbidden
from jianguan.core.i18n import N_
from jianguan.deps import CurrentUser, SessionDep
from jianguan.risk import feeds_api, service, warning_api
from jianguan.risk.schemas import IncidentIn, WithdrawIn

router = APIRouter(prefix="/risk", tags=["risk"])
router.include_router(feeds_api.router)  # POST /readings, /feeds: batches from connected systems
router.include_router(warning_api.router)  # /warnings, /rules


@router.get("/entities/{uscc}/explain")
def explain(uscc: str, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """The entity's score, level and each indicator's value and contribution, top reasons first."""
    return service.explain(db, entity=service.entity_by_uscc(db, uscc_code=uscc, actor=user), actor=user)


@router.get("/entities/{uscc}/scores")
def scores(uscc: str, db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The score history: a row each time the score or level moved."""
    entity = service.entity_by_uscc(db, uscc_code=uscc, actor=user)
    return [{"scored_at": s.scored_at, "score": str(s.score), "level": s.level, "incident_id": s.incident_id}
            for s in service.history(db, entity_id=entity.id)]


@router.post("/score")
def score(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Score the whole registry now (system administrators; the worker does it nightly)."""
    if not user.has_role("system_admin"):
        raise Forbidden(N_("Only system administrators start a scoring run."))
    return service.score(db, actor=user)


@router.get("/incidents")
def incidents(db: SessionDep, user: CurrentUser, uscc: str = "") -> list[dict[str, Any]]:
    entity = service.entity_by_uscc(db, uscc_code=uscc, actor=user) if uscc else None
    return service.incidents(db, actor=user, entity_id=entity.id if entity else None)


@router.post("/incidents", status_code=201)
def record_incident(body: IncidentIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    entity = service.entity_by_uscc(db, uscc_code=body.uscc, actor=user)
    incident = service.record_incident(db, entity=entity, kind=body.kind, severity=body.severity,
                                       occurred_on=body.occurred_on, source=body.source,
                                       description=body.description, actor=user)
    return {"id": incident.id, "red_until": incident.red_until, "risk_level": entity.risk_level}


@router.post("/incidents/{incident_id}/withdraw")
def withdraw_incident(incident_id: int, body: WithdrawIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    incident = service.withdraw_incident(db, incident_id=incident_id, reason=body.reason, actor=user)
    return {"id": incident.id, "withdrawn_reason": incident.withdrawn_reason}


from jianguan.risk import credit_api  # noqa: E402  (credit feedback: /api/v1/risk/credit…)

router.include_router(credit_api.router)
