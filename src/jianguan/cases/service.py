"""Penalty cases: leads registered (from a person, or from an inspection finding transferred to a
case) and the filing decision. Flush only; every step audited through the workflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.cases import workflow as wf
from jianguan.cases.models import Case
from jianguan.cases.schemas import LeadIn
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import local_date, today_shanghai
from jianguan.entities.models import Entity
from jianguan.officers.models import Agency
from jianguan.reference import service as ref

PARTY_KINDS = ("organisation", "person")
REGISTRARS = {Role.officer.value, Role.leader.value, Role.agency_admin.value, Role.system_admin.value}


def today() -> dt.date:
    return today_shanghai()


def _agency(db: Session, actor: User | None, agency_id: int | None) -> Agency:
    agency_id = agency_id if agency_id is not None else (actor.agency_id if actor is not None else None)
    agency = db.get(Agency, agency_id) if agency_id is not None else None
    if agency is None:
        raise Invalid("agency_id", N_("A case belongs to an agency; your account has none."))
    if actor is not None and not actor.is_system_admin and (
            actor.agency_id != agency.id or not actor.has_role(*REGISTRARS)):
        raise Forbidden(N_("Only the agency's officers register its case leads."))
    return agency


def _next_code(db: Session, agency: Agency, year: int) -> str:
    prefix = f"{agency.code}-AY{year}-"
    n = db.scalar(select(func.count()).select_from(Case).where(Case.code.like(prefix + "%"))) or 0
    return f"{prefix}{n + 1:06d}"


def register_lead(db: Session, *, data: LeadIn, actor: User | None, agency_id: int | None = None) -> Case:
    """案源登记: the filing decision falls due 15 working days after today (the lead's day)."""
    agency = _agency(db, actor, agency_id)
    problems: list[Invalid] = []
    if ref.resolve(db, "case_source", data.source_type) is None:
        problems.append(Invalid("source_type", N_("Unknown code(s) {codes} for {name}."), codes=data.source_type,
                                name="source_type"))
    if data.party_kind not in PARTY_KINDS:
        problems.append(Invalid("party_kind", N_("The party is a person or an organisation.")))
    entity = None
    if data.party_uscc.strip():
        entity = db.scalar(select(Entity).where(Entity.uscc == data.party_uscc.strip().upper()))
        if entity is None:
            problems.append(Invalid("party_uscc", N_("No entity with USCC {uscc} in the registry."),
                                    uscc=data.party_uscc))
    elif not data.party_name.strip():
        problems.append(Invalid("party_name", N_("Name the party, or give its USCC.")))
    lead_on = today()
    if data.discovered_on > lead_on:
        problems.append(Invalid("discovered_on", N_("The date found cannot be in the future.")))
    if data.act_ended_on is not None and data.act_ended_on > data.discovered_on:
        problems.append(Invalid("act_ended_on", N_("The act cannot be discovered before it ended.")))
    if data.violation_code:
        from jianguan.cases import discretion

        if data.violation_code not in discretion.rules():
            problems.append(Invalid("violation_code", N_("No discretion rule {code}."), code=data.violation_code))
    if problems:
        raise Invalid.all(problems)
    case = Case(code=_next_code(db, agency, lead_on.year), agency_id=agency.id,
                region_code=entity.region_code if entity is not None else agency.region_code,
                entity_id=entity.id if entity is not None else None,
                party_name=entity.name if entity is not None else data.party_name.strip(),
                party_kind=data.party_kind, title=data.title.strip(),
                source_type=ref.resolve(db, "case_source", data.source_type) or data.source_type,
                source_ref=data.source_ref, violation_code=data.violation_code, facts=data.facts,
                act_ended_on=data.act_ended_on, discovered_on=data.discovered_on, severe=data.severe,
                lead_on=lead_on, created_by=actor.id if actor is not None else None)
    workflow.start(db, case, workflow=wf.CASE, actor=actor, payload={"code": case.code})
    audit.record(db, actor=actor, action="case.lead", object_type="case", object_id=case.id,
                 payload=data.model_dump(mode="json"), detail={"code": case.code, "source": case.source_type})
    return case


def from_finding(db: Session, finding: Any, *, actor: User | None, comment: str = "") -> Case:
    """An inspection finding transferred to a case (移送立案) becomes a lead of the inspecting agency."""
    from jianguan.inspections.models import Inspection

    inspection = db.get(Inspection, finding.inspection_id)
    entity = db.get(Entity, finding.entity_id)
    found_on = today()
    if inspection is not None and inspection.visit_started_at is not None:
        found_on = local_date(inspection.visit_started_at)
    data = LeadIn(title=finding.text[:300], source_type="inspection_finding", source_ref=f"finding:{finding.id}",
                  party_uscc=entity.uscc if entity is not None and entity.uscc else "",
                  party_name=entity.name if entity is not None else "", discovered_on=min(found_on, today()),
                  facts="\n".join(x for x in (finding.text, finding.basis, comment) if x))
    return register_lead(db, data=data, actor=actor, agency_id=finding.agency_id)


def get_case(db: Session, *, case_id: int, actor: User | None) -> Case:
    case = db.get(Case, case_id)
    if case is None or (actor is not None and not can_see(case, actor)):
        raise NotFound(N_("No such case."))
    return case


def list_cases(db: Session, *, actor: User, state: str = "", q: str = "", offset: int = 0,
               limit: int = 50) -> tuple[list[Case], int]:
    stmt = select(Case).where(visible(Case, actor))
    if state:
        stmt = stmt.where(Case.state == state)
    if q.strip():
        stmt = stmt.where(Case.title.contains(q.strip()) | Case.party_name.contains(q.strip())
                          | Case.code.contains(q.strip()))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Case.due_date.is_(None), Case.due_date, Case.id).offset(offset).limit(limit))
    return list(rows), int(total)


def decide(db: Session, *, case_id: int, action: str, comment: str = "", expected_version: int | None = None,
           actor: User | None) -> Case:
    case = get_case(db, case_id=case_id, actor=actor)
    workflow.act(db, case, action=action, actor=actor, comment=comment, expected_version=expected_version)
    return case
