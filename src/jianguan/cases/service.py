"""Penalty cases: leads registered (from a person, or from an inspection finding transferred to a
case) and the filing decision. Flush only; every step audited through the workflow."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.evidence import Readable
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.cases import deadlines, documents, steps
from jianguan.cases import workflow as wf
from jianguan.cases.models import (
    Case,
    CaseEvidence,
    CaseOfficer,
    CasePreservation,
    CaseSuspension,
)
from jianguan.cases.schemas import LeadIn, ProposalIn, SimpleIn
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.workdays import local_date
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.officers.models import Agency
from jianguan.reference import service as ref

PARTY_KINDS = ("organisation", "person")
REGISTRARS = {Role.officer.value, Role.leader.value, Role.agency_admin.value, Role.system_admin.value}


def today() -> dt.date:
    return steps.today()


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


def register_lead(db: Session, *, data: LeadIn, actor: User | None, agency_id: int | None = None,
                  source_form: bool = True) -> Case:
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
                party_kind=data.party_kind, title=data.title.strip(), party_address=data.party_address.strip(),
                source_type=ref.resolve(db, "case_source", data.source_type) or data.source_type,
                source_ref=data.source_ref, violation_code=data.violation_code, facts=data.facts,
                act_ended_on=data.act_ended_on, discovered_on=data.discovered_on, severe=data.severe,
                lead_on=lead_on, created_by=actor.id if actor is not None else None)
    workflow.start(db, case, workflow=wf.CASE, actor=actor, payload={"code": case.code})
    audit.record(db, actor=actor, action="case.lead", object_type="case", object_id=case.id,
                 payload=data.model_dump(mode="json"), detail={"code": case.code, "source": case.source_type})
    if source_form:
        documents.source_form(db, case, actor=actor)
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


def decide(db: Session, *, case_id: int, action: str, comment: str = "", payload: dict[str, Any] | None = None,
           expected_version: int | None = None, actor: User | None) -> Case:
    """Take a step of the case workflow; ``payload`` carries the step's dates and amounts (cases/steps.py)."""
    case = get_case(db, case_id=case_id, actor=actor)
    workflow.act(db, case, action=action, actor=actor, comment=comment, payload=payload,
                 expected_version=expected_version)
    return case


# --------------------------------------------------------------------------- investigation

EVIDENCE_KINDS = ("document", "photo", "video", "testimony", "inquiry", "on_site", "test_report", "electronic",
                  "other")
SUSPENSION_REASONS = ("hearing", "testing", "expert", "public_notice", "other")
INVESTIGATING = (wf.FILED,)


def _handling(db: Session, case_id: int, actor: User | None, *, states: tuple[str, ...] = INVESTIGATING,
              expected_version: int | None = None) -> Case:
    """A case this officer's agency handles, in a state where the investigation may still change."""
    case = get_case(db, case_id=case_id, actor=actor)
    check_version(case, expected_version)
    if actor is not None and not actor.is_system_admin and (
            actor.agency_id != case.agency_id or not actor.has_role(Role.officer, Role.leader)):
        raise Forbidden(N_("Only the agency's officers handle its cases."))
    if case.state not in states:
        raise Conflict(N_("Not possible while the case is {state}."), state=case.state)
    return case


def _touch(case: Case) -> None:
    """Bump the version: what the step changed belongs to the case (a form showing the old one gets 409)."""
    case.updated_at = utcnow()


def assign_officers(db: Session, *, case_id: int, officer_ids: Sequence[int], lead_id: int | None = None,
                    expected_version: int | None = None, actor: User | None) -> Case:
    """承办人: the agency's active officers with a credential valid today, none in conflict with the party."""
    from jianguan.officers import roster
    from jianguan.officers.models import Credential, CredentialStatus, Officer

    case = _handling(db, case_id, actor, states=(wf.LEAD, wf.FILED), expected_version=expected_version)
    ids = list(dict.fromkeys(officer_ids))
    if len(ids) < steps.MIN_OFFICERS:
        raise Invalid("officer_ids", N_("At least two officers handle a case (行政处罚法第四十二条)."))
    day = today()
    conflicted = roster.conflicted_officer_ids(db, entity_id=case.entity_id) if case.entity_id else set()
    chosen: list[tuple[int, str]] = []
    problems: list[Invalid] = []
    for officer_id in ids:
        officer = db.get(Officer, officer_id)
        if officer is None or officer.agency_id != case.agency_id or not officer.is_active:
            problems.append(Invalid("officer_ids", N_("Officer {id} is not an active officer of this agency."),
                                    id=officer_id))
            continue
        credential = db.scalar(select(Credential).where(
            Credential.officer_id == officer_id, Credential.status == CredentialStatus.valid.value,
            Credential.issued_on <= day, Credential.expires_on >= day).order_by(Credential.expires_on.desc()))
        if credential is None:
            problems.append(Invalid("officer_ids", N_("{name} holds no enforcement credential valid today."),
                                    name=officer.name))
        elif officer_id in conflicted:
            problems.append(Invalid("officer_ids", N_("{name} must withdraw from this party's case (回避)."),
                                    name=officer.name))
        else:
            chosen.append((officer_id, credential.number))
    if problems:
        raise Invalid.all(problems)
    lead_id = lead_id if lead_id in ids else ids[0]
    case.officers.clear()
    db.flush()
    for officer_id, number in chosen:
        case.officers.append(CaseOfficer(officer_id=officer_id, credential_number=number, lead=officer_id == lead_id))
    _touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.officers", object_type="case", object_id=case.id,
                 payload={"officer_ids": ids, "lead_id": lead_id},
                 detail={"credentials": [n for _, n in chosen]})
    return case


def add_evidence(db: Session, *, case_id: int, kind: str, title: str, stream: Readable | None = None,
                 filename: str = "", content_type: str | None = None, actor: User) -> CaseEvidence:
    """An evidence item, its file kept once by hash in the evidence store (and the chain)."""
    from jianguan.audit.evidence import store_evidence

    case = _handling(db, case_id, actor)
    problems = []
    if kind not in EVIDENCE_KINDS:
        problems.append(Invalid("kind", N_("Unknown code(s) {codes} for {name}."), codes=kind, name="kind"))
    if not title.strip():
        problems.append(Invalid("title", N_("Name the evidence.")))
    if problems:
        raise Invalid.all(problems)
    sha = None
    if stream is not None:
        sha = store_evidence(db, stream=stream, filename=filename, content_type=content_type, actor=actor,
                             note=f"case {case.code}").sha256
    row = CaseEvidence(kind=kind, title=title.strip()[:200], sha256=sha, filename=filename[:200],
                       collected_on=today(), collected_by=actor.id)
    case.evidence.append(row)
    _touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.evidence", object_type="case", object_id=case.id,
                 payload={"kind": kind, "title": title, "sha256": sha}, detail={"evidence_id": row.id})
    return row


def add_record(db: Session, *, case_id: int, kind: str, content: dict[str, Any], actor: User) -> CaseEvidence:
    """询问笔录 or 现场笔录: issued as a numbered document and kept as evidence of the case."""
    case = _handling(db, case_id, actor)
    if kind == "inquiry":
        qa = [x for x in content.get("qa", []) if str(x.get("q", "")).strip() or str(x.get("a", "")).strip()]
        problems = []
        if not str((content.get("respondent") or {}).get("name", "")).strip():
            problems.append(Invalid("respondent", N_("Name the person questioned.")))
        if not qa:
            problems.append(Invalid("qa", N_("Write at least one question and answer.")))
        if problems:
            raise Invalid.all(problems)
        content = {**content, "qa": qa}
        doc = documents.inquiry_record(db, case, content, actor=actor)
        title = f"询问笔录（{content['respondent']['name']}）"
    elif kind == "on_site":
        if not str(content.get("content", "")).strip():
            raise Invalid("content", N_("Write what was found on site."))
        doc = documents.on_site_record(db, case, content, actor=actor)
        title = f"现场笔录（{content.get('place') or case.party_name}）"
    else:
        raise Invalid("kind", N_("Unknown code(s) {codes} for {name}."), codes=kind, name="kind")
    row = CaseEvidence(kind=kind, title=title[:200], document_id=doc.id, content=content, collected_on=today(),
                       collected_by=actor.id)
    case.evidence.append(row)
    _touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.record", object_type="case", object_id=case.id,
                 payload={"kind": kind, "content": content}, detail={"document": doc.number})
    return row


def preserve(db: Session, *, case_id: int, items: str, actor: User) -> CasePreservation:
    """先行登记保存: its handling must be decided within 7 working days."""
    case = _handling(db, case_id, actor)
    if not items.strip():
        raise Invalid("items", N_("List the items preserved."))
    day = today()
    due = deadlines.preservation_decision_due(workflow.calendar(db), day)
    row = CasePreservation(items=items.strip(), preserved_on=day, due_on=due.date, due_unconfirmed=due.unconfirmed)
    case.preservations.append(row)
    _touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.preserve", object_type="case", object_id=case.id,
                 payload={"items": items}, detail={"due_on": due.date.isoformat()})
    return row


def decide_preservation(db: Session, *, preservation_id: int, handling: str, actor: User) -> CasePreservation:
    row = db.get(CasePreservation, preservation_id)
    if row is None:
        raise NotFound(N_("No such preservation."))
    case = _handling(db, row.case_id, actor)
    if row.decided_on is not None:
        raise Conflict(N_("Already decided."))
    if not handling.strip():
        raise Invalid("handling", N_("Say how the items are handled (解除, 没收, 移送 …)."))
    row.decided_on, row.handling = today(), handling.strip()
    _touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.preservation_decided", object_type="case", object_id=case.id,
                 payload={"preservation_id": row.id, "handling": handling},
                 detail={"late": row.decided_on > row.due_on})
    return row


def suspend(db: Session, *, case_id: int, reason: str, started_on: dt.date | None = None, note: str = "",
            actor: User) -> CaseSuspension:
    """Testing, expert opinion or a public notice: time not counted in the decision period (SAMR 第六十四条)."""
    case = _handling(db, case_id, actor, states=wf.OPEN_BEFORE_DECISION)
    if reason not in SUSPENSION_REASONS:
        raise Invalid("reason", N_("Unknown code(s) {codes} for {name}."), codes=reason, name="reason")
    start = started_on or today()
    if start > today() or (case.filed_on is not None and start < case.filed_on):
        raise Invalid("started_on", N_("A suspension starts between filing and today."))
    row = CaseSuspension(reason=reason, started_on=start, note=note.strip())
    case.suspensions.append(row)
    _touch(case)
    db.flush()
    workflow.refresh_due(db, case)
    audit.record(db, actor=actor, action="case.suspend", object_type="case", object_id=case.id,
                 payload={"reason": reason, "started_on": start.isoformat(), "note": note}, detail={})
    return row


def resume(db: Session, *, suspension_id: int, ended_on: dt.date | None = None, actor: User) -> CaseSuspension:
    row = db.get(CaseSuspension, suspension_id)
    if row is None:
        raise NotFound(N_("No such suspension."))
    case = _handling(db, row.case_id, actor, states=wf.OPEN_BEFORE_DECISION)
    if row.ended_on is not None:
        raise Conflict(N_("This suspension has ended."))
    end = ended_on or today()
    if end < row.started_on or end > today():
        raise Invalid("ended_on", N_("A suspension ends between its start and today."))
    row.ended_on = end
    _touch(case)
    db.flush()
    workflow.refresh_due(db, case)
    audit.record(db, actor=actor, action="case.resume", object_type="case", object_id=case.id,
                 payload={"suspension_id": row.id, "ended_on": end.isoformat()}, detail={"due": str(case.due_date)})
    return row


def propose(db: Session, *, case_id: int, data: ProposalIn, actor: User) -> Case:
    """拟处罚: the engine's suggestion for the facts, frozen with the rule version; a fine outside the
    suggested range needs a reason and is flagged for the reviewer (refused outside the legal range)."""
    from jianguan.cases import benchmarks, discretion

    benchmarks.sync(db)
    case = _handling(db, case_id, actor, expected_version=data.expected_version)
    code = data.violation_code or case.violation_code
    if not code:
        raise Invalid("violation_code", N_("Choose the violation (discretion rule)."))
    suggestion = discretion.suggest(code, data.facts, on=case.act_ended_on or case.discovered_on)
    kinds = [str(k) for k in data.kinds]
    unknown = [k for k in kinds if ref.resolve(db, "penalty_kind", k) is None]
    if unknown:
        raise Invalid("kinds", N_("Unknown code(s) {codes} for {name}."), codes=", ".join(unknown), name="kinds")
    deviation = False
    if data.outcome == "penalty":
        if not kinds:
            raise Invalid("kinds", N_("Choose the penalty kinds."))
        if "3" in kinds:
            if data.fine is None:
                raise Invalid("fine", N_("Give the fine."))
            deviation = discretion.check_choice(suggestion, data.fine, data.reason)
        allowed = set(suggestion.kinds) | {"1"}
        beyond = sorted(set(kinds) - allowed)
        if beyond and not data.reason.strip():
            raise Invalid("kinds", N_("Kinds {codes} are not in the benchmark's suggestion; give the reason."),
                          codes=", ".join(beyond))
        deviation = deviation or bool(beyond)
    elif data.outcome == "no_penalty":
        kinds = []
        if suggestion.tier != "no_penalty" and not data.reason.strip():
            raise Invalid("reason", N_("The benchmark does not suggest no penalty here; give the reason."))
        deviation = suggestion.tier != "no_penalty"
    elif data.outcome != "transfer":
        raise Invalid("outcome", N_("Unknown code(s) {codes} for {name}."), codes=data.outcome, name="outcome")
    case.violation_code = code
    case.case_facts = dict(data.facts)
    case.suggestion = suggestion.as_dict()
    case.tier = suggestion.tier
    case.legal_low, case.legal_high = suggestion.legal_range
    case.suggested_low, case.suggested_high = suggestion.range or (None, None)
    case.outcome = data.outcome
    case.proposed_kinds = kinds if data.outcome == "penalty" else []
    case.proposed_fine = data.fine if data.outcome == "penalty" and "3" in kinds else None
    case.proposed_confiscation = data.confiscation if data.outcome == "penalty" and "4" in kinds else None
    case.deviation, case.deviation_reason, case.deviation_cleared_by = deviation, data.reason.strip(), None
    _touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.propose", object_type="case", object_id=case.id,
                 payload=data.model_dump(mode="json"), detail={"suggestion": case.suggestion, "deviation": deviation})
    return case


def simple_penalty(db: Session, *, data: SimpleIn, actor: User) -> Case:
    """当场处罚: the case is registered, decided and handed over in one step; a fine collected on the spot
    (at most ¥100) is recorded as paid with its receipt."""
    if data.collect_on_spot and not data.receipt.strip():
        raise Invalid("receipt", N_("Give the number of the receipt handed over (行政处罚法第七十条)."))
    lead = LeadIn(title=data.title, source_type="inspection_finding", party_uscc=data.party_uscc,
                  party_name=data.party_name, party_kind=data.party_kind, party_address=data.party_address,
                  facts=data.facts, discovered_on=today())
    case = register_lead(db, data=lead, actor=actor, source_form=False)
    mine = steps.officer_id_of(db, actor)
    assign_officers(db, case_id=case.id, officer_ids=[*([mine] if mine else []), *data.officer_ids], actor=actor)
    workflow.act(db, case, action="decide_on_spot", actor=actor, comment=data.facts,
                 payload={"kinds": data.kinds, "fine": str(data.fine) if data.fine is not None else "",
                          "place": data.place, "collect_on_spot": data.collect_on_spot, "statement": data.statement})
    if data.collect_on_spot and case.decision_fine:
        from jianguan.cases import execution

        execution.record_payment(db, case_id=case.id, amount=case.decision_fine, receipt=data.receipt,
                                 actor=actor)
        workflow.act(db, case, action="execute", actor=actor, comment="当场收缴")
    elif not case.decision_fine:
        workflow.act(db, case, action="execute", actor=actor, comment="警告，当场交付")
    return case


# --------------------------------------------------------------------------- deadlines shown on every page


@dataclasses.dataclass(frozen=True)
class Shown:
    label: str
    due: dt.date
    unconfirmed: bool
    met_on: dt.date | None
    days_left: int | None  # None once met

    @property
    def overdue(self) -> bool:
        return self.met_on is None and self.days_left is not None and self.days_left < 0


def deadlines_of(db: Session, case: Case) -> list[Shown]:
    """Every statutory period of the case so far: when it falls, whether it was met, days left."""
    cal = workflow.calendar(db)
    day = today()
    shown: list[Shown] = []

    def add(label: str, due: Any, met_on: dt.date | None) -> None:
        if due is None:
            return
        left = None if met_on is not None else (due.date - day).days
        shown.append(Shown(label, due.date, due.unconfirmed, met_on, left))

    add(N_("Decide on filing (15 working days)"),
        deadlines.filing_due(cal, case.lead_on, extended=case.filing_extended),
        case.filed_on or (case.updated_at.date() if case.state == wf.NOT_FILED else None))
    for p in case.preservations:
        from jianguan.core.workdays import DueDate

        add(N_("Decide on preserved items (7 working days)"), DueDate(p.due_on, p.due_unconfirmed), p.decided_on)
    if case.filed_on is not None and case.procedure == "general":
        add(N_("Decision (90 days, suspensions excluded)"), steps.decision_due(case, cal), case.decided_on)
    if case.review_received_on is not None:
        add(N_("Legal review (10 working days)"), deadlines.legal_review_due(cal, case.review_received_on),
            case.reviewed_on if case.reviewed_on and case.reviewed_on >= case.review_received_on else None)
    if case.notice_served_on is not None:
        add(N_("Party's statement or hearing request (5 working days)"),
            deadlines.hearing_request_due(cal, case.notice_served_on),
            case.hearing_requested_on or (case.decided_on if case.decided_on else None))
    if case.hearing_on is not None:
        add(N_("Hearing notice served (7 working days before)"), deadlines.hearing_notice_latest(cal, case.hearing_on),
            case.hearing_notice_on)
    if case.decided_on is not None and case.procedure == "general" and case.outcome != "transfer":
        add(N_("Decision served (7 working days)"), deadlines.service_due(cal, case.decided_on), case.served_on)
    if case.payment_due_on is not None:
        from jianguan.core.workdays import DueDate

        add(N_("Payment (15 days from service)"), DueDate(case.payment_due_on),
            case.executed_on if case.state not in (wf.SERVED, wf.ENFORCING) else None)
    if case.served_on is not None and case.payment_due_on is not None:
        _, last = deadlines.enforcement_window(cal, case.served_on)
        if case.state in (wf.SERVED, wf.ENFORCING) or case.enforcement_applied_on:
            add(N_("Apply to the court for enforcement (within 3 months once the challenge periods lapse)"), last,
                case.enforcement_applied_on)
    if case.executed_on is not None and case.procedure == "general":
        add(N_("Closing approval (15 working days)"), deadlines.closing_due(cal, case.executed_on), case.closed_on)
    return shown


def review_queue(db: Session, *, actor: User, limit: int = 200) -> list[Case]:
    """法制审核 queue: cases in review the reviewer may see, deviations from the benchmark first, then by due."""
    stmt = (select(Case).where(visible(Case, actor), Case.state == wf.REVIEWING)
            .order_by(Case.deviation.desc(), Case.due_date, Case.id).limit(limit))
    return list(db.scalars(stmt))
