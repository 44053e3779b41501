"""Inspection plans (检查计划): drawn up, checked against the catalog and the negative list, approved,
filed with the level above, and kept out of sight while unannounced (四不两直).

"No legal basis, no inspection": every item must be in the catalog and in force, none may be on the
negative list, and the object scope must lie within the planning agency's region.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, region_prefix, visible
from jianguan.catalog import service as catalog
from jianguan.catalog.models import ItemVersion, SupervisionItem
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.db import utcnow
from jianguan.entities import codes
from jianguan.entities.models import Entity
from jianguan.inspections import rules
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import InspectionPlan
from jianguan.inspections.schemas import PlanIn, ScopeIn
from jianguan.officers.models import Agency
from jianguan.reference import service as ref

NAMED_KINDS = frozenset({"targeted", "complaint"})  # plans that name their entities
SEALED_KINDS = frozenset({"unannounced"})


def _codes(db: Session, domain: str, values: Sequence[str], field: str) -> list[str]:
    known = {i.code for i in ref.domain_items(db, domain)}
    values = [v.strip() for v in values if v and v.strip()]
    bad = [v for v in values if v not in known]
    if bad:
        raise Invalid(field, N_("Unknown code(s) {codes} for {name}."), codes=", ".join(bad), name=field)
    return list(dict.fromkeys(values))


def plan_items(db: Session, plan: InspectionPlan | Sequence[str]) -> list[tuple[SupervisionItem, ItemVersion | None]]:
    """The plan's catalog items with the version in force now (None when none is)."""
    item_codes = plan.item_codes if isinstance(plan, InspectionPlan) else list(plan)
    out = []
    for code in item_codes:
        item = catalog.item_by_code(db, code)
        if item is None:
            raise Invalid("item_codes", N_("No catalog item has the code {code}."), code=code)
        out.append((item, catalog.current_version(db, item)))
    return out


def plan_domains(db: Session, plan: InspectionPlan) -> list[str]:
    return sorted({item.domain for item, _ in plan_items(db, plan)})


def _scope(db: Session, scope: ScopeIn, agency: Agency) -> dict[str, Any]:
    region = scope.region_code or agency.region_code
    if not region.startswith(region_prefix(agency.region_code)):
        raise Invalid("scope.region_code", N_("The plan may only cover the agency's own region ({region})."),
                      region=agency.region_code)
    out: dict[str, Any] = {"region_code": region}
    if scope.industry_code:
        code = scope.industry_code.strip().upper()
        if not codes.INDUSTRY_RE.match(code):
            raise Invalid("scope.industry_code", N_("Industry filter must be a section letter or 2–4 digits."))
        out["industry_code"] = code
    for field, domain in (("kinds", "entity_kind"), ("scales", "enterprise_scale"), ("tags", "entity_tag"),
                          ("credit_classes", "credit_class"), ("risk_levels", "risk_level")):
        values = _codes(db, domain, getattr(scope, field), f"scope.{field}")
        if values:
            out[field] = values
    return out


def _targets(db: Session, usccs: Sequence[str]) -> list[int]:
    ids = []
    for raw in usccs:
        code = raw.strip().upper()
        if not code:
            continue
        found = db.scalar(select(Entity.id).where(Entity.uscc == code))
        if found is None:
            raise Invalid("target_usccs", N_("No entity in the registry has the code {code}."), code=code)
        ids.append(found)
    return list(dict.fromkeys(ids))


def _values(db: Session, data: PlanIn, agency: Agency) -> dict[str, Any]:
    problems: list[Invalid] = []

    def check(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Invalid as error:
            problems.append(error)
            return None

    kind = check(_codes, db, "plan_kind", [data.kind], "kind")
    methods = check(_codes, db, "inspection_method", data.methods, "methods")
    items = check(plan_items, db, data.item_codes)
    scope = check(_scope, db, data.scope, agency)
    targets = check(_targets, db, data.target_usccs)
    if data.ends_on < data.starts_on:
        problems.append(Invalid("ends_on", N_("The end date must not be before the start date.")))
    if data.ratio is not None and data.count is not None:
        problems.append(Invalid("count", N_("Give either a ratio or a count, not both.")))
    if data.kind in NAMED_KINDS and not data.target_usccs:
        problems.append(Invalid("target_usccs", N_("A targeted or complaint-triggered plan names its entities.")))
    others = [a for a in dict.fromkeys(data.agency_ids) if a != agency.id]
    for agency_id in others:
        if db.get(Agency, agency_id) is None:
            problems.append(Invalid("agency_ids", N_("No agency with id {id}."), id=agency_id))
    if data.kind == "joint" and not others:
        problems.append(Invalid("agency_ids", N_("A joint plan names the other departments taking part.")))
    rule_set = check(rules.current, db, data.rule_set, data.starts_on)
    if data.weight_source == "model":
        from jianguan.risk import learning  # the risk centre reads inspections: imported when needed

        check(learning.usable, db)
    if problems:
        raise Invalid.all(problems)
    return {
        "title": data.title.strip(), "kind": kind[0], "methods": methods, "item_codes": [i.code for i, _ in items],
        "scope": scope, "target_entity_ids": targets, "ratio": data.ratio, "count": data.count,
        "weighted": data.weighted, "weight_source": data.weight_source, "starts_on": data.starts_on,
        "ends_on": data.ends_on, "year": data.starts_on.year,
        "officers_per_domain": data.officers_per_domain, "workload_cap": data.workload_cap,
        "expert_count": data.expert_count, "agency_ids": [agency.id, *others],
        "restricted": data.kind in SEALED_KINDS, "rule_set_id": rule_set.id, "description": data.description.strip(),
    }


def _agency_of(db: Session, actor: User | None, agency_id: int | None) -> Agency:
    agency_id = agency_id if agency_id is not None else (actor.agency_id if actor is not None else None)
    if agency_id is None:
        raise Invalid("agency_id", N_("A plan belongs to an agency; your account has none."))
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise Invalid("agency_id", N_("No agency with id {id}."), id=agency_id)
    if actor is not None and not actor.is_system_admin and actor.agency_id != agency.id:
        raise Forbidden(N_("You may draw up plans only for your own agency."))
    if actor is not None and not actor.has_role(*wf.AUTHORS) and not actor.is_system_admin:
        raise Forbidden(N_("Only officers and agency admins draw up plans."))
    return agency


def _next_code(db: Session, agency: Agency, year: int) -> str:
    n = db.scalar(select(func.count()).select_from(InspectionPlan)
                  .where(InspectionPlan.agency_id == agency.id, InspectionPlan.year == year)) or 0
    return f"{agency.code}-JH{year}-{n + 1:03d}"


def create_plan(db: Session, *, data: PlanIn, actor: User | None, agency_id: int | None = None) -> InspectionPlan:
    agency = _agency_of(db, actor, agency_id)
    values = _values(db, data, agency)
    plan = InspectionPlan(code=_next_code(db, agency, values["year"]), agency_id=agency.id,
                          region_code=agency.region_code, created_by=actor.id if actor else None, **values)
    workflow.start(db, plan, workflow=wf.PLAN, actor=actor, payload={"code": plan.code})
    audit.record(db, actor=actor, action="inspection_plan.create", object_type="inspection_plan", object_id=plan.id,
                 payload=_audit_values(values), detail={"code": plan.code, "title": plan.title})
    return plan


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    """Dates and decimals as text (the audit payload is JSON)."""
    return {k: str(v) if isinstance(v, dt.date | Decimal) else v for k, v in values.items()}


def update_plan(db: Session, *, plan_id: int, data: PlanIn, expected_version: int | None,
                actor: User | None) -> InspectionPlan:
    plan = get_plan(db, plan_id=plan_id, actor=actor)
    check_version(plan, expected_version)
    if plan.state not in wf.EDITABLE:
        raise Invalid("state", N_("Only a draft plan can be changed."))
    _agency_of(db, actor, plan.agency_id)
    values = _values(db, data, plan.agency)
    for key, value in values.items():
        setattr(plan, key, value)
    db.flush()
    audit.record(db, actor=actor, action="inspection_plan.update", object_type="inspection_plan", object_id=plan.id,
                 payload=_audit_values(values), detail={"code": plan.code})
    return plan


def target_usccs(db: Session, plan: InspectionPlan) -> list[str]:
    ids = list(plan.target_entity_ids or [])
    if not ids:
        return []
    found = dict(db.execute(select(Entity.id, Entity.uscc).where(Entity.id.in_(ids))).all())
    return [found[i] or f"#{i}" for i in ids if i in found]


def ensure_complete(db: Session, plan: InspectionPlan) -> None:
    """Submit guard: every item in force, none on the negative list, named entities still there."""
    problems: list[Invalid] = []
    for item, version in plan_items(db, plan):
        if version is None or item.status != "in_force":
            problems.append(Invalid("item_codes", N_("Catalog item {code} is not in force."), code=item.code))
    matches = catalog.negative_matches(db, item_codes=plan.item_codes, texts=[plan.title, plan.description])
    for match in matches:
        problems.append(Invalid("item_codes", N_("On the negative list ({entry}): {what}"), entry=match.entry.matter,
                                what=match.where))
    if problems:
        raise Invalid.all(problems)


def is_insider(plan: InspectionPlan, actor: User | None) -> bool:
    """Who may see a sealed (unannounced) plan before its visits begin: its author, its agency's
    leaders and admins, system admins, jobs."""
    if actor is None or actor.is_system_admin or plan.created_by == actor.id:
        return True
    return actor.agency_id == plan.agency_id and actor.has_role(Role.leader, Role.agency_admin)


def sealed(plan: InspectionPlan) -> bool:
    return plan.restricted and plan.state in (wf.DRAFT, wf.AWAITING_APPROVAL, wf.APPROVED)


def may_see(plan: InspectionPlan, actor: User | None) -> bool:
    if actor is None:
        return True
    if sealed(plan):
        return is_insider(plan, actor)
    return can_see(plan, actor) or actor.agency_id in (plan.agency_ids or [])


def get_plan(db: Session, *, plan_id: int, actor: User | None) -> InspectionPlan:
    plan = db.get(InspectionPlan, plan_id)
    if plan is None or not may_see(plan, actor):
        raise NotFound(N_("No such inspection plan."))
    return plan


def list_plans(db: Session, *, actor: User, state: str = "", year: int | None = None, kind: str = "", q: str = "",
               offset: int = 0, limit: int = 50) -> tuple[list[InspectionPlan], int]:
    stmt = select(InspectionPlan).where(visible(InspectionPlan, actor)).order_by(InspectionPlan.id.desc())
    if state:
        stmt = stmt.where(InspectionPlan.state == state)
    if year:
        stmt = stmt.where(InspectionPlan.year == year)
    if kind:
        stmt = stmt.where(InspectionPlan.kind == kind)
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(InspectionPlan.title.like(like) | InspectionPlan.code.like(like))
    rows = [p for p in db.scalars(stmt) if may_see(p, actor)]
    return rows[offset:offset + limit], len(rows)


def file_plan(db: Session, plan: InspectionPlan, *, actor: User | None) -> None:
    """备案: an approved plan is filed with the agency above, whose leaders and admins are told."""
    from jianguan.notify import service as notify

    parent = plan.agency.parent if plan.agency is not None else None
    plan.filed_at = utcnow()
    plan.filed_with_agency_id = parent.id if parent is not None else None
    db.flush()
    if parent is None:
        return
    users = db.scalars(select(User).where(User.is_active, User.agency_id == parent.id)).all()
    recipients = [u.id for u in users if u.has_role(Role.leader, Role.agency_admin)]
    if recipients:
        notify.send(db, user_ids=recipients, kind="inspection_plan.filed", title=N_("Inspection plan filed: {code}"),
                    body=N_("{agency} filed the plan “{title}” ({start} – {end})."),
                    params={"code": plan.code, "agency": plan.agency.name, "title": plan.title,
                            "start": plan.starts_on.isoformat(), "end": plan.ends_on.isoformat()},
                    link=f"/inspections/plans/{plan.id}", actor=actor)


def decide(db: Session, *, plan_id: int, action: str, comment: str = "", expected_version: int | None = None,
           actor: User | None) -> InspectionPlan:
    plan = get_plan(db, plan_id=plan_id, actor=actor)
    workflow.act(db, plan, action=action, actor=actor, comment=comment, expected_version=expected_version)
    return plan


def approval_queue(db: Session, *, actor: User) -> list[InspectionPlan]:
    rows = db.scalars(select(InspectionPlan).where(InspectionPlan.state == wf.AWAITING_APPROVAL,
                                                   visible(InspectionPlan, actor)).order_by(InspectionPlan.due_date))
    return [p for p in rows if "approve" in workflow.allowed_actions(p, actor)]
