"""Credit feedback over HTTP, under /api/v1/risk/credit (included by ``risk/api.py``). Thin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from jianguan.deps import CurrentUser, SessionDep
from jianguan.risk import credit, credit_lists
from jianguan.risk.credit_models import PROPOSED

router = APIRouter(prefix="/credit", tags=["risk"])


class EvaluateIn(BaseModel):
    as_of: dt.date | None = None


class DecisionIn(BaseModel):
    decision: str = Field(pattern="^(accept|reject)$")
    version: int
    note: str = Field(default="", max_length=2000)


@router.post("/evaluate")
def evaluate(body: EvaluateIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Evaluate the entities in the caller's scope; open proposals are added, replaced or withdrawn."""
    return credit.evaluate(db, as_of=body.as_of, actor=user)


@router.get("/proposals")
def proposals(
    db: SessionDep, user: CurrentUser, state: str = PROPOSED, offset: int = 0, limit: int = 200
) -> dict[str, Any]:
    rows, total = credit.proposals(db, actor=user, state=state, offset=offset, limit=limit)
    return {"items": rows, "total": total, "offset": offset, "limit": limit}


@router.post("/proposals/{proposal_id}/decide")
def decide(proposal_id: int, body: DecisionIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Accept (the credit class changes, with the reasons in its history) or reject with a note; 409 when stale."""
    proposal = credit.decide(
        db, proposal_id=proposal_id, accept=body.decision == "accept", note=body.note, version=body.version, actor=user
    )
    return {
        "id": proposal.id,
        "state": proposal.state,
        "version": proposal.version,
        "proposed_class": proposal.proposed_class,
        "reason": credit.reason_text(proposal),
    }


@router.get("/compliant")
def compliant(db: SessionDep, user: CurrentUser, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """合规企业名录 in the caller's scope."""
    return credit_lists.rows(credit.compliant(db, as_of=as_of, actor=user))


@router.get("/punishment")
def punishment(db: SessionDep, user: CurrentUser, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """联合惩戒名单 in the caller's scope, with the reasons per entity."""
    return credit_lists.rows(credit.joint_punishment(db, as_of=as_of, actor=user))


@router.get("/{which}/export", response_class=Response)
def export(
    which: str,
    db: SessionDep,
    user: CurrentUser,
    as_of: dt.date | None = None,
    fmt: Annotated[str, Query(alias="format")] = "xlsx",
) -> Response:
    body = credit.export(db, which=which, as_of=as_of, actor=user, fmt=fmt)
    return Response(
        body,
        media_type=credit_lists.MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{which}.{fmt}"'},
    )
