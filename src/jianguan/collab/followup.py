"""What handling a complaint turns into: a verification visit (a complaint-triggered inspection: a
plan of kind ``complaint`` naming the entity, with no advance notice, approved and drawn like any
plan), or a case lead (案源, source 投诉举报). The complaint keeps the reference, and its reply names it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.cases.models import Case
from jianguan.collab import service
from jianguan.collab import workflow as wf
from jianguan.collab.models import Complaint
from jianguan.core.errors import Conflict, Invalid
from jianguan.core.i18n import N_
from jianguan.entities import codes
from jianguan.entities.models import Entity
from jianguan.inspections.models import InspectionPlan

FOLLOW_STATES = (wf.ACCEPTED, wf.HANDLING)


def _handled(db: Session, complaint_id: int, actor: User) -> tuple[Complaint, Entity]:
    complaint = service.get(db, complaint_id=complaint_id, actor=actor, audit_read=False)
    if not service.may_handle(complaint, actor):
        raise Conflict(N_("Only the handling agency follows a complaint up."))
    if complaint.state not in FOLLOW_STATES:
        raise Conflict(N_("Accept the complaint before following it up."))
    if complaint.outcome_ref:
        raise Conflict(N_("This complaint is already followed up by {ref}."), ref=complaint.outcome_ref)
    entity = db.get(Entity, complaint.entity_id) if complaint.entity_id else None
    if entity is None or not entity.uscc:
        raise Invalid("entity", N_("Match the complaint to an entity of the registry first."))
    return complaint, entity


def verify_by_inspection(db: Session, *, complaint_id: int, item_codes: list[str] | None = None,
                         actor: User) -> InspectionPlan:
    """A draft complaint-triggered plan naming the entity, for the officer to complete and submit."""
    from jianguan.inspections import service as inspections
    from jianguan.inspections.schemas import PlanIn

    complaint, entity = _handled(db, complaint_id, actor)
    items = item_codes or [c for c in [service.rules().get("verification_items", {}).get(complaint.category)] if c]
    if not items:
        raise Invalid("item_codes", N_("Choose the catalog item the visit checks."))
    today = service.today()
    category = codes.labels(db, "complaint_category").get(complaint.category, complaint.category)
    plan = inspections.create_plan(db, actor=actor, agency_id=complaint.agency_id, data=PlanIn.model_validate({
        "title": f"投诉举报核查：{complaint.number}（{category}）", "kind": "complaint", "methods": ["on_site"],
        "item_codes": items, "target_usccs": [entity.uscc], "starts_on": today,
        "ends_on": today + dt.timedelta(days=30), "scope": {"region_code": entity.region_code},
        "description": f"投诉举报 {complaint.number} 的现场核查，不预先通知（有因检查）。"}))
    complaint.outcome, complaint.outcome_ref = "inspection", f"plan:{plan.code}"
    audit.record(db, actor=actor, action="complaint.verify", object_type="complaint", object_id=complaint.id,
                 detail={"plan": plan.code})
    return plan


def to_case(db: Session, *, complaint_id: int, actor: User) -> Case:
    """A case lead (案源) of the handling agency, its source the complaint; the facts as written."""
    from jianguan.cases import service as cases
    from jianguan.cases.schemas import LeadIn

    complaint, entity = _handled(db, complaint_id, actor)
    category = codes.labels(db, "complaint_category").get(complaint.category, complaint.category)
    case = cases.register_lead(db, actor=actor, agency_id=complaint.agency_id, data=LeadIn.model_validate({
        "title": f"{entity.name}涉嫌{category}违法（投诉举报 {complaint.number}）"[:300],
        "source_type": "complaint", "source_ref": complaint.number, "party_uscc": entity.uscc,
        "facts": complaint.content, "discovered_on": complaint.received_on}))
    complaint.outcome, complaint.outcome_ref = "case", f"case:{case.code}"
    audit.record(db, actor=actor, action="complaint.to_case", object_type="complaint", object_id=complaint.id,
                 detail={"case": case.code})
    return case
