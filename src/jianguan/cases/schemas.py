"""The JSON shapes of penalty cases."""

from __future__ import annotations

import datetime as dt
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
    violation_code: str = ""
    facts: str = Field(default="", max_length=8000)
    act_ended_on: dt.date | None = None
    discovered_on: dt.date
    severe: bool = False


def case_dict(case: Any) -> dict[str, Any]:
    return {"id": case.id, "code": case.code, "title": case.title, "state": case.state, "party_name": case.party_name,
            "party_kind": case.party_kind, "entity_id": case.entity_id, "source_type": case.source_type,
            "source_ref": case.source_ref, "violation_code": case.violation_code, "act_ended_on": case.act_ended_on,
            "discovered_on": case.discovered_on, "severe": case.severe, "lead_on": case.lead_on,
            "filing_extended": case.filing_extended, "filed_on": case.filed_on,
            "not_filed_reason": case.not_filed_reason, "due_date": case.due_date,
            "due_unconfirmed": case.due_unconfirmed, "escalation_level": case.escalation_level,
            "version": case.version}
