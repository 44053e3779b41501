"""Warnings and warning rules over HTTP, under /api/v1/risk. Thin: the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from jianguan.core import workflow
from jianguan.core.workdays import today_shanghai
from jianguan.deps import CurrentUser, SessionDep
from jianguan.risk import rules, warning_rules, warnings
from jianguan.risk.models import Warning

router = APIRouter()


class StepIn(BaseModel):
    comment: str = ""
    disposition: str | None = None
    agency_id: int | None = None
    expected_version: int | None = None


def warning_dict(record: Warning, user: Any) -> dict[str, Any]:
    return {"id": record.id, "code": record.code, "rule_code": record.rule_code, "entity_id": record.entity_id,
            "region_code": record.region_code, "agency_id": record.agency_id, "domain": record.domain,
            "level": record.level, "fired_on": record.fired_on, "value": record.value,
            "threshold": record.threshold, "detail": record.detail, "state": record.state,
            "due_date": record.due_date, "disposition": record.disposition,
            "disposition_ref": record.disposition_ref, "reason": record.reason, "feedback": record.feedback,
            "version": record.version, "actions": workflow.allowed_actions(record, user)}


@router.get("/warnings")
def list_warnings(db: SessionDep, user: CurrentUser, state: str = "", level: str = "", rule: str = "",
                  limit: int = 100, offset: int = 0) -> dict[str, Any]:
    rows, total = warnings.listing(db, actor=user, state=state, level=level, rule_code=rule,
                                   open_only=not state, limit=max(1, min(limit, 1000)), offset=max(0, offset))
    return {"total": total, "items": [warning_dict(w, user) for w in rows]}


@router.get("/warnings/{warning_id}")
def get_warning(warning_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return warning_dict(warnings.get(db, warning_id=warning_id, actor=user), user)


@router.post("/warnings/{warning_id}/{action}")
def act(warning_id: int, action: str, body: StepIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """take, transfer (agency_id), dispose (disposition: inspection / case / other), false_alarm, feedback, close."""
    payload = {k: v for k, v in (("disposition", body.disposition), ("agency_id", body.agency_id)) if v is not None}
    record = warnings.act(db, warning_id=warning_id, action=action, actor=user, comment=body.comment,
                          payload=payload, expected_version=body.expected_version)
    return warning_dict(record, user)


@router.get("/rules")
def list_rules(db: SessionDep, user: CurrentUser, on: dt.date | None = None) -> list[dict[str, Any]]:
    """The rules in force on a day (default today), each as its stored data."""
    return [rules.to_data(r) for r in warning_rules.in_force(db, on=on or today_shanghai())]


@router.post("/rules", status_code=201)
def save_rule(body: dict[str, Any], db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A new rule, or the next version of one (system administrators and legal reviewers)."""
    row = warning_rules.save(db, data=body, actor=user)
    return {"code": row.code, "version": row.version_number, "spec": row.spec}


@router.get("/rules/{code}/backtest")
def backtest(code: str, db: SessionDep, user: CurrentUser, days: int = 90) -> dict[str, Any]:
    latest = warning_rules.versions(db, code=code)[0]
    result = warning_rules.backtest(db, rule=rules.validate(latest.spec), end=today_shanghai(), days=days)
    return {"summary": result.summary, "warnings": result.warnings.head(500).to_dicts()}
