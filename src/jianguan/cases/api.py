"""JSON routes of penalty cases under /api/v1/cases, and the discretion engine. Thin: the services and
the case workflow (cases/steps.py) decide."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Response, UploadFile
from pydantic import BaseModel

from jianguan.cases import benchmarks, discretion, execution, service
from jianguan.cases.schemas import (
    ChallengeIn,
    ChallengeOutcomeIn,
    HandlingIn,
    LeadIn,
    OfficersIn,
    PaymentIn,
    PreservationIn,
    ProposalIn,
    RecordIn,
    ResumeIn,
    SimpleIn,
    StepIn,
    SuspensionIn,
    TypicalIn,
    case_dict,
    detail_dict,
)
from jianguan.core import workflow
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/cases", tags=["cases"])


class SuggestIn(BaseModel):
    rule: str
    facts: dict[str, Any] = {}
    on: dt.date | None = None  # the day of the act


def _full(db: SessionDep, case: Any, user: CurrentUser) -> dict[str, Any]:
    return {**detail_dict(case), "actions": workflow.allowed_actions(case, user),
            "deadlines": [{"label": d.label, "due": d.due, "unconfirmed": d.unconfirmed, "met_on": d.met_on,
                           "days_left": d.days_left, "overdue": d.overdue} for d in service.deadlines_of(db, case)]}


@router.get("", response_model=Page[dict[str, Any]])
def list_cases(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
               state: str = "", q: str = "") -> Page[Any]:
    rows, total = service.list_cases(db, actor=user, state=state, q=q, offset=page.offset, limit=page.limit)
    return Page(items=[case_dict(c) for c in rows], total=total, offset=page.offset, limit=page.limit)


@router.post("", status_code=201)
def register_lead(body: LeadIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return case_dict(service.register_lead(db, data=body, actor=user))


@router.post("/simple", status_code=201)
def simple_penalty(body: SimpleIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """当场处罚: registered, decided and handed over in one step (within the simple procedure's limits)."""
    return _full(db, service.simple_penalty(db, data=body, actor=user), user)


@router.get("/discretion/rules")
def discretion_rules(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Every rule with the version in use today and the drafts waiting for approval."""
    return benchmarks.register(db)


@router.get("/discretion/rules/{code}")
def discretion_versions(code: str, db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [{k: v for k, v in version.items() if k != "yaml"} for version in benchmarks.versions_of(db, code)]


class RuleIn(BaseModel):
    spec: dict[str, Any] | None = None  # the rule as JSON, or
    yaml: str = ""  # as YAML (the shipped files' form)
    note: str = ""


class RuleDecision(BaseModel):
    approve: bool
    note: str = ""


@router.post("/discretion/rules", status_code=201)
def propose_rule(body: RuleIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A new version of a rule (a draft until approved by another person)."""
    spec = body.spec if body.spec is not None else benchmarks.parse_yaml(body.yaml)
    row = benchmarks.propose(db, spec=spec, note=body.note, actor=user)
    return {"id": row.id, "code": row.code, "version": row.number, "status": row.status}


@router.post("/discretion/versions/{rule_id}/decision")
def decide_rule(rule_id: int, body: RuleDecision, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = benchmarks.decide(db, rule_id=rule_id, approve=body.approve, note=body.note, actor=user)
    return {"id": row.id, "code": row.code, "version": row.number, "status": row.status}


@router.post("/discretion/suggest")
def discretion_suggest(body: SuggestIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Tier, suggested and legal range (yuan, two decimals), kinds, quoted basis and reasons."""
    benchmarks.sync(db)
    return discretion.suggest(body.rule, body.facts, on=body.on or service.today()).as_dict()


@router.get("/review-queue")
def review_queue(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Cases waiting for 审核, deviations first."""
    return [case_dict(c) for c in service.review_queue(db, actor=user)]


@router.get("/consistency")
def consistency(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """同案不同罚 and 畸轻畸重: decided fines by rule, agency and region; groups flagged; the rate outside."""
    from jianguan.cases import analytics

    return analytics.consistency(db, actor=user)


@router.get("/records")
def penalty_records(db: SessionDep, user: CurrentUser, since: dt.date, until: dt.date,
                    format: str = "jsonl") -> Response:
    """Penalty decisions in the national reporting layout (JSON lines or XLSX), scoped and audited."""
    from jianguan.cases import reporting

    data = reporting.export(db, actor=user, since=since, until=until, fmt=format)
    kind = "application/x-ndjson" if format == "jsonl" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="penalties-{since}-{until}.{format}"'})


@router.get("/challenges/figures")
def challenge_figures(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return execution.challenge_figures(db, actor=user)


@router.get("/typical")
def typical_cases(db: SessionDep, user: CurrentUser, q: str = "") -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "decided_on": c.decided_on, "summary": c.typical_summary}
            for c in execution.typical_cases(db, q=q)]


@router.get("/{case_id}")
def get_case(case_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    case = service.get_case(db, case_id=case_id, actor=user)
    return {**_full(db, case, user),
            "history": [{"action": e.action, "from": e.from_state, "to": e.to_state, "by": e.actor_name, "at": e.at,
                         "comment": e.comment} for e in workflow.history(db, case)]}


@router.post("/{case_id}/actions/{action}")
def act(case_id: int, action: str, body: StepIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    case = service.decide(db, case_id=case_id, action=action, comment=body.comment, payload=body.payload,
                          expected_version=body.expected_version, actor=user)
    return _full(db, case, user)


@router.post("/{case_id}/officers")
def assign_officers(case_id: int, body: OfficersIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return _full(db, service.assign_officers(db, case_id=case_id, officer_ids=body.officer_ids, lead_id=body.lead_id,
                                             expected_version=body.expected_version, actor=user), user)


@router.post("/{case_id}/evidence", status_code=201)
def add_evidence(case_id: int, db: SessionDep, user: CurrentUser, kind: Annotated[str, Form()],
                 title: Annotated[str, Form()], file: UploadFile | None = None) -> dict[str, Any]:
    row = service.add_evidence(db, case_id=case_id, kind=kind, title=title,
                               stream=file.file if file is not None else None,
                               filename=file.filename or "" if file is not None else "",
                               content_type=file.content_type if file is not None else None, actor=user)
    return {"id": row.id, "kind": row.kind, "title": row.title, "sha256": row.sha256}


@router.post("/{case_id}/records", status_code=201)
def add_record(case_id: int, body: RecordIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.add_record(db, case_id=case_id, kind=body.kind, content=body.content, actor=user)
    return {"id": row.id, "kind": row.kind, "title": row.title, "document_id": row.document_id}


@router.post("/{case_id}/preservations", status_code=201)
def preserve(case_id: int, body: PreservationIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.preserve(db, case_id=case_id, items=body.items, actor=user)
    return {"id": row.id, "preserved_on": row.preserved_on, "due_on": row.due_on}


@router.post("/preservations/{preservation_id}/decision")
def decide_preservation(preservation_id: int, body: HandlingIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.decide_preservation(db, preservation_id=preservation_id, handling=body.handling, actor=user)
    return {"id": row.id, "decided_on": row.decided_on, "handling": row.handling}


@router.post("/{case_id}/suspensions", status_code=201)
def suspend(case_id: int, body: SuspensionIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.suspend(db, case_id=case_id, reason=body.reason, started_on=body.started_on, note=body.note,
                          actor=user)
    return {"id": row.id, "reason": row.reason, "started_on": row.started_on}


@router.post("/suspensions/{suspension_id}/end")
def resume(suspension_id: int, body: ResumeIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.resume(db, suspension_id=suspension_id, ended_on=body.ended_on, actor=user)
    return {"id": row.id, "started_on": row.started_on, "ended_on": row.ended_on}


@router.post("/{case_id}/proposal")
def propose(case_id: int, body: ProposalIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return _full(db, service.propose(db, case_id=case_id, data=body, actor=user), user)


@router.post("/{case_id}/payments", status_code=201)
def record_payment(case_id: int, body: PaymentIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = execution.record_payment(db, case_id=case_id, amount=body.amount, paid_on=body.paid_on,
                                 receipt=body.receipt, actor=user)
    return {"id": row.id, "amount": f"{row.amount:.2f}", "surcharge": f"{row.surcharge:.2f}", "paid_on": row.paid_on}


@router.post("/{case_id}/challenges", status_code=201)
def add_challenge(case_id: int, body: ChallengeIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = execution.add_challenge(db, case_id=case_id, kind=body.kind, filed_on=body.filed_on, body=body.body,
                                actor=user)
    return {"id": row.id, "kind": row.kind, "filed_on": row.filed_on}


@router.post("/challenges/{challenge_id}/outcome")
def conclude_challenge(challenge_id: int, body: ChallengeOutcomeIn, db: SessionDep,
                       user: CurrentUser) -> dict[str, Any]:
    row = execution.conclude_challenge(db, challenge_id=challenge_id, outcome=body.outcome, reason=body.reason,
                                     decided_on=body.decided_on, note=body.note, actor=user)
    return {"id": row.id, "outcome": row.outcome, "reason": row.outcome_reason, "decided_on": row.decided_on}


@router.post("/{case_id}/typical")
def mark_typical(case_id: int, body: TypicalIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    case = execution.mark_typical(db, case_id=case_id, summary=body.summary, actor=user)
    return {"id": case.id, "typical": case.typical, "summary": case.typical_summary}
