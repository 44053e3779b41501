"""The JSON shapes of penalty cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LeadIn(BaseModel):
    """案源登记: a lead as reported."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300)  # 案由
    source_type: str  # case_source
    source_ref: str = Field(default="", max_length=60)
    party_uscc: str = ""  # the registry's entity, when the party is one
    party_name: str = Field(default="", max_length=200)
    party_kind: str = "organisation"
    party_address: str = Field(default="", max_length=300)
    violation_code: str = ""
    facts: str = Field(default="", max_length=8000)
    act_ended_on: dt.date | None = None
    discovered_on: dt.date
    severe: bool = False


class ProposalIn(BaseModel):
    """拟处罚: the facts for the discretion engine and the officer's choice."""

    model_config = ConfigDict(extra="forbid")

    violation_code: str = ""
    facts: dict[str, Any] = Field(default_factory=dict)
    outcome: str = "penalty"  # penalty / no_penalty / transfer
    kinds: list[str] = Field(default_factory=list)  # penalty_kind codes
    fine: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    confiscation: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    reason: str = Field(default="", max_length=2000)  # why outside the suggestion
    expected_version: int | None = None


class SimpleIn(BaseModel):
    """当场处罚 on a phone: who, what, where, and the two officers."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=300)
    party_uscc: str = ""
    party_name: str = Field(default="", max_length=200)
    party_kind: str = "organisation"
    party_address: str = Field(default="", max_length=300)
    facts: str = Field(min_length=4, max_length=4000)  # the violation found
    kinds: list[str] = Field(default_factory=list)  # 1 警告 / 3 罚款
    fine: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    collect_on_spot: bool = False
    place: str = Field(default="", max_length=200)
    statement: str = Field(default="", max_length=2000)  # 当事人的陈述申辩
    officer_ids: list[int] = Field(default_factory=list)
    receipt: str = Field(default="", max_length=60)  # 专用票据 number when collected


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def case_dict(case: Any) -> dict[str, Any]:
    return {"id": case.id, "code": case.code, "title": case.title, "state": case.state, "procedure": case.procedure,
            "party_name": case.party_name, "party_kind": case.party_kind, "party_address": case.party_address,
            "entity_id": case.entity_id, "source_type": case.source_type, "source_ref": case.source_ref,
            "violation_code": case.violation_code, "act_ended_on": case.act_ended_on,
            "discovered_on": case.discovered_on, "severe": case.severe, "lead_on": case.lead_on,
            "filing_extended": case.filing_extended, "filed_on": case.filed_on,
            "not_filed_reason": case.not_filed_reason, "due_date": case.due_date,
            "due_unconfirmed": case.due_unconfirmed, "escalation_level": case.escalation_level,
            "facts": case.case_facts, "suggestion": case.suggestion, "outcome": case.outcome,
            "proposed": {"kinds": case.proposed_kinds, "fine": _money(case.proposed_fine),
                         "confiscation": _money(case.proposed_confiscation)},
            "deviation": case.deviation, "deviation_reason": case.deviation_reason,
            "deviation_cleared": case.deviation_cleared_by is not None, "findings": case.findings,
            "major": case.major, "major_grounds": case.major_grounds, "review_opinion": case.review_opinion,
            "reviewed_on": case.reviewed_on, "discussed_on": case.discussed_on,
            "notice_served_on": case.notice_served_on, "hearing_right": case.hearing_right,
            "noticed": {"kinds": case.noticed_kinds, "fine": _money(case.noticed_fine),
                        "confiscation": _money(case.noticed_confiscation)},
            "statement": case.statement, "rights_waived": case.rights_waived,
            "hearing_requested_on": case.hearing_requested_on, "hearing_on": case.hearing_on,
            "hearing_held_on": case.hearing_held_on, "decision_extended": case.decision_extended,
            "decided_on": case.decided_on, "decision_number": case.decision_number,
            "decision": {"kinds": case.decision_kinds, "fine": _money(case.decision_fine),
                         "confiscation": _money(case.decision_confiscation)},
            "served_on": case.served_on, "service_method": case.service_method,
            "payment_due_on": case.payment_due_on, "deferral": case.deferral,
            "enforcement_applied_on": case.enforcement_applied_on, "executed_on": case.executed_on,
            "closed_on": case.closed_on, "archived_on": case.archived_on, "typical": case.typical,
            "version": case.version}


def detail_dict(case: Any) -> dict[str, Any]:
    """The case with what belongs to it."""
    return {
        **case_dict(case),
        "officers": [{"officer_id": o.officer_id, "credential_number": o.credential_number, "lead": o.lead}
                     for o in case.officers],
        "evidence": [{"id": e.id, "kind": e.kind, "title": e.title, "sha256": e.sha256, "document_id": e.document_id,
                      "collected_on": e.collected_on} for e in case.evidence],
        "preservations": [{"id": p.id, "items": p.items, "preserved_on": p.preserved_on, "due_on": p.due_on,
                           "decided_on": p.decided_on, "handling": p.handling} for p in case.preservations],
        "suspensions": [{"id": s.id, "reason": s.reason, "started_on": s.started_on, "ended_on": s.ended_on,
                         "note": s.note} for s in case.suspensions],
        "payments": [{"id": p.id, "paid_on": p.paid_on, "amount": _money(p.amount), "surcharge": _money(p.surcharge),
                      "receipt": p.receipt} for p in case.payments],
        "challenges": [{"id": c.id, "kind": c.kind, "filed_on": c.filed_on, "body": c.body, "outcome": c.outcome,
                        "reason": c.outcome_reason, "decided_on": c.decided_on} for c in case.challenges],
    }


class StepIn(BaseModel):
    """A step of the case workflow: the comment (reason, facts found, minutes …) and the step's fields."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=8000)
    expected_version: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)  # e.g. served_on, hearing_on, fine, kinds


class OfficersIn(BaseModel):
    officer_ids: list[int]
    lead_id: int | None = None
    expected_version: int | None = None


class RecordIn(BaseModel):
    kind: str  # inquiry / on_site
    content: dict[str, Any]


class PreservationIn(BaseModel):
    items: str = Field(max_length=4000)


class HandlingIn(BaseModel):
    handling: str = Field(max_length=2000)


class SuspensionIn(BaseModel):
    reason: str
    started_on: dt.date | None = None
    note: str = Field(default="", max_length=2000)


class ResumeIn(BaseModel):
    ended_on: dt.date | None = None


class PaymentIn(BaseModel):
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    paid_on: dt.date | None = None
    receipt: str = Field(default="", max_length=60)


class ChallengeIn(BaseModel):
    kind: str
    filed_on: dt.date
    body: str = Field(default="", max_length=200)


class ChallengeOutcomeIn(BaseModel):
    outcome: str
    reason: str = ""
    decided_on: dt.date | None = None
    note: str = Field(default="", max_length=4000)


class TypicalIn(BaseModel):
    summary: str = Field(default="", max_length=8000)
