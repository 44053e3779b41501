"""Input and output shapes of plans and draws (Pydantic v2). Form here; codes and rules in the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ScopeIn(BaseModel):
    """Which entities a plan covers: filters on the registry (all optional; lists mean any of)."""

    model_config = ConfigDict(extra="forbid")

    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    industry_code: str | None = None  # section letter or 2–4 digits
    kinds: list[str] = []
    scales: list[str] = []
    tags: list[str] = []
    credit_classes: list[str] = []
    risk_levels: list[str] = []


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=200)
    kind: str
    methods: list[str] = Field(min_length=1)
    item_codes: list[str] = Field(min_length=1)
    scope: ScopeIn = ScopeIn()
    target_usccs: list[str] = []  # named entities: all of them are inspected (定向, 投诉触发)
    ratio: Decimal | None = Field(default=None, gt=0, le=100)
    count: int | None = Field(default=None, ge=1)
    weighted: bool = True
    weight_source: Literal["risk_score", "model"] = "risk_score"  # the level the strata use
    starts_on: dt.date
    ends_on: dt.date
    officers_per_domain: int = Field(default=2, ge=2, le=6)
    workload_cap: int | None = Field(default=None, ge=1)
    expert_count: int = Field(default=0, ge=0, le=5)
    agency_ids: list[int] = []  # other agencies whose officers take part (joint plans)
    description: str = Field(default="", max_length=4000)
    rule_set: str = "default"


class PlanChanges(PlanIn):
    expected_version: int | None = None


class Decision(BaseModel):
    comment: str = ""
    expected_version: int | None = None


class DrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: str | None = Field(default=None, max_length=200)  # read out at a public drawing; else generated
    inspection_date: dt.date | None = None


class VoidIn(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class ExpertIn(BaseModel):
    name: str = Field(min_length=2, max_length=100)
    domains: list[str] = Field(min_length=1)
    organisation: str = ""
    title: str = ""
    specialities: str = ""
    phone: str | None = None


def plan_dict(plan: Any) -> dict[str, Any]:
    return {
        "id": plan.id, "code": plan.code, "title": plan.title, "year": plan.year, "kind": plan.kind,
        "methods": plan.methods, "agency_id": plan.agency_id, "region_code": plan.region_code,
        "agency_ids": plan.agency_ids, "item_codes": plan.item_codes, "scope": plan.scope,
        "target_entity_ids": plan.target_entity_ids,
        "ratio": str(plan.ratio) if plan.ratio is not None else None, "count": plan.count,
        "weighted": plan.weighted, "weight_source": plan.weight_source, "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "officers_per_domain": plan.officers_per_domain, "workload_cap": plan.workload_cap,
        "expert_count": plan.expert_count, "restricted": plan.restricted, "rule_set_id": plan.rule_set_id,
        "description": plan.description, "state": plan.state, "due_date": plan.due_date,
        "filed_with_agency_id": plan.filed_with_agency_id, "filed_at": plan.filed_at, "version": plan.version,
    }


def draw_dict(draw: Any) -> dict[str, Any]:
    return {
        "id": draw.id, "plan_id": draw.plan_id, "number": draw.number, "seed": draw.seed,
        "seed_source": draw.seed_source, "algorithm": draw.algorithm, "params": draw.params,
        "inspection_date": draw.inspection_date, "rule_set_id": draw.rule_set_id, "pool_hash": draw.pool_hash,
        "pool_file": draw.pool_file, "pool_size": draw.pool_size, "result_hash": draw.result_hash,
        "selected_count": draw.selected_count, "summary": draw.summary, "drawn_by": draw.drawn_by_name,
        "drawn_at": draw.drawn_at, "voided_at": draw.voided_at, "void_reason": draw.void_reason,
    }


class ScheduleIn(BaseModel):
    on: dt.date
    method: str = ""  # one of the plan's methods: on site, documents, online, remote video, mystery shopper
    expected_version: int | None = None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str | None = None  # yes / no / na
    value: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000)


class FindingDecision(BaseModel):
    comment: str = ""
    expected_version: int | None = None
    responsible: str = ""  # for submit_plan
    measures: str = ""
    timetable: str = ""


class RefusalIn(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


def inspection_dict(record: Any, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": record.id, "code": record.code, "plan_id": record.plan_id, "entity_id": record.entity_id,
        "agency_id": record.agency_id, "region_code": record.region_code, "kind": record.kind,
        "method": record.method, "item_codes": record.item_codes, "scheduled_on": record.scheduled_on,
        "state": record.state, "due_date": record.due_date, "due_unconfirmed": record.due_unconfirmed,
        "escalation_level": record.escalation_level, "notice_sent_on": record.notice_sent_on,
        "notice_skip_reason": record.notice_skip_reason, "visit_started_at": record.visit_started_at,
        "visit_ended_at": record.visit_ended_at, "result": record.result, "signed_by": record.signed_by,
        "signature_sha256": record.signature_sha256, "refusal_reason": record.refusal_reason,
        "feedback_sent_on": record.feedback_sent_on, "closed_at": record.closed_at, "version": record.version,
        "officers": [{"officer_id": o.officer_id, "expert_id": o.expert_id, "domain": o.domain,
                      "credential_number": o.credential_number, "shown_at": o.shown_at} for o in record.officers],
    }
    if full:
        out["answers"] = [{"point_code": a.point_code, "text": a.text, "mandatory": a.mandatory, "answer": a.answer,
                           "value": a.value, "note": a.note, "answered_at": a.answered_at} for a in record.answers]
        out["findings"] = [finding_dict(f) for f in record.findings]
    return out


def finding_dict(finding: Any) -> dict[str, Any]:
    return {"id": finding.id, "inspection_id": finding.inspection_id, "point_code": finding.point_code,
            "text": finding.text, "severity": finding.severity, "basis": finding.basis,
            "rectify_by": finding.rectify_by, "state": finding.state, "due_date": finding.due_date,
            "escalation_level": finding.escalation_level, "rejections": finding.rejections,
            "rectification": finding.rectification, "version": finding.version}


class MatterIn(BaseModel):
    """A 督查 matter put on the list (or handed down: then ``title`` is the local addition only)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300)
    level: str = "county"  # matter_level
    source_ref: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=60)
    description: str = Field(default="", max_length=4000)
    unit_usccs: list[str] = []  # the government units supervised
    due_on: dt.date


class MatterChanges(BaseModel):
    """调整: what changes on a listed matter, with the reason (``comment``)."""

    title: str | None = Field(default=None, min_length=2, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    unit_usccs: list[str] | None = None
    due_on: dt.date | None = None
    comment: str = ""
    expected_version: int | None = None


class HandDownIn(BaseModel):
    agency_id: int
    due_on: dt.date | None = None
    title: str = Field(default="", max_length=300)  # the local addition, if any
    unit_usccs: list[str] = []


class ProblemIn(BaseModel):
    unit_uscc: str
    text: str = Field(min_length=2, max_length=2000)
    found_on: dt.date
    source: str = Field(default="实地督查", max_length=60)


class ResponsibilityIn(BaseModel):
    unit_uscc: str
    role: str = "lead"
    person: str = Field(min_length=1, max_length=100)
    position: str = Field(default="", max_length=100)


class TaskIn(BaseModel):
    unit_uscc: str
    owner: str = Field(min_length=1, max_length=100)
    measures: str = Field(min_length=2, max_length=2000)
    due_on: dt.date


class AccountabilityIn(BaseModel):
    unit_uscc: str
    problem_id: int | None = None
    person: str = Field(default="", max_length=100)
    position: str = Field(default="", max_length=100)
    measure: str
    reason: str = Field(min_length=2, max_length=2000)
    decided_on: dt.date
    decided_by: str = Field(default="", max_length=200)


class VisitIn(BaseModel):
    unit_uscc: str
    visited_on: dt.date
    on_site: bool = True
    hours: Decimal = Field(default=Decimal(0), ge=0, le=24)
    documents_demanded: int = Field(default=0, ge=0, le=500)
    note: str = Field(default="", max_length=2000)


class MatterDecision(Decision):
    due_on: dt.date | None = None  # the second round's deadline (follow_up)


def task_dict(task: Any) -> dict[str, Any]:
    return {"id": task.id, "problem_id": task.problem_id, "matter_id": task.matter_id, "unit_id": task.unit_id,
            "owner": task.owner, "measures": task.measures, "due_on": task.due_on, "state": task.state,
            "due_date": task.due_date, "accepted_on": task.accepted_on, "rejections": task.rejections,
            "escalation_level": task.escalation_level, "version": task.version}


def matter_dict(matter: Any, *, full: bool = False) -> dict[str, Any]:
    from jianguan.inspections.matters import title_of

    out: dict[str, Any] = {
        "id": matter.id, "code": matter.code, "title": title_of(matter), "local_title": matter.title,
        "level": matter.level, "round": matter.round, "parent_id": matter.parent_id,
        "previous_id": matter.previous_id, "agency_id": matter.agency_id, "source_ref": matter.source_ref,
        "unit_ids": matter.unit_ids, "due_on": matter.due_on, "state": matter.state, "due_date": matter.due_date,
        "completed_on": matter.completed_on, "exit_reason": matter.exit_reason, "version": matter.version}
    if full:
        out["problems"] = [{
            "id": p.id, "unit_id": p.unit_id, "text": p.text, "found_on": p.found_on, "source": p.source,
            "origin_problem_id": p.origin_problem_id,
            "responsibilities": [{"id": r.id, "unit_id": r.unit_id, "role": r.role, "person": r.person,
                                  "position": r.position} for r in p.responsibilities],
            "tasks": [task_dict(t) for t in p.tasks]} for p in matter.problems]
    return out
