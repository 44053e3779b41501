"""JSON routes of penalty cases under /api/v1/cases, and the discretion engine. Thin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from jianguan.cases import discretion, service
from jianguan.cases.schemas import LeadIn, case_dict
from jianguan.core import workflow
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/cases", tags=["cases"])


class CaseDecision(BaseModel):
    comment: str = ""
    expected_version: int | None = None


class SuggestIn(BaseModel):
    rule: str
    facts: dict[str, Any] = {}
    on: dt.date | None = None  # the day of the act


@router.get("", response_model=Page[dict[str, Any]])
def list_cases(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
               state: str = "", q: str = "") -> Page[Any]:
    rows, total = service.list_cases(db, actor=user, state=state, q=q, offset=page.offset, limit=page.limit)
    return Page(items=[case_dict(c) for c in rows], total=total, offset=page.offset, limit=page.limit)


@router.post("", status_code=201)
def register_lead(body: LeadIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return case_dict(service.register_lead(db, data=body, actor=user))


@router.get("/discretion/rules")
def discretion_rules(user: CurrentUser) -> list[dict[str, Any]]:
    return [{"code": code, "version": v[0].version, "title": v[0].title} for code, v in discretion.rules().items()]


@router.post("/discretion/suggest")
def discretion_suggest(body: SuggestIn, user: CurrentUser) -> dict[str, Any]:
    """Tier, suggested and legal range (yuan, two decimals), kinds, quoted basis and reasons."""
    return discretion.suggest(body.rule, body.facts, on=body.on or service.today()).as_dict()


@router.get("/{case_id}")
def get_case(case_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    case = service.get_case(db, case_id=case_id, actor=user)
    return {**case_dict(case), "actions": workflow.allowed_actions(case, user),
            "history": [{"action": e.action, "from": e.from_state, "to": e.to_state, "by": e.actor_name, "at": e.at,
                         "comment": e.comment} for e in workflow.history(db, case)]}


@router.post("/{case_id}/actions/{action}")
def act(case_id: int, action: str, body: CaseDecision, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    case = service.decide(db, case_id=case_id, action=action, comment=body.comment,
                          expected_version=body.expected_version, actor=user)
    return {**case_dict(case), "actions": workflow.allowed_actions(case, user)}
