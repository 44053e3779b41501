"""Checklist templates (versioned, with applicability rules) and the smart checklist: for an entity
and item(s), pick the template and the points and say why each is there; the officer may add points
from the catalog (recorded) and drop optional ones, never a mandatory one (必查项)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.catalog import rules
from jianguan.catalog import workflow as wf
from jianguan.catalog.models import (
    Checklist,
    ChecklistPoint,
    ChecklistTemplate,
    CheckPoint,
    ItemVersion,
    SupervisionItem,
    TemplatePoint,
    TemplateVersion,
)
from jianguan.catalog.schemas import TemplateIn
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_, gettext
from jianguan.core.workdays import today_shanghai
from jianguan.db import utcnow
from jianguan.entities import codes as entity_codes
from jianguan.entities.models import Entity, EntityLicence, EntityTag
from jianguan.reference import service as ref

SIMPLIFIED_POINTS = range(8, 13)  # a simplified checklist has 8–12 points (domain-rules §3.2)
EDITORS = {"agency_admin", "system_admin", "legal_reviewer"}


# --------------------------------------------------------------------------- points in force


def points_in_force(db: Session, codes: Sequence[str] | None = None) -> dict[str, CheckPoint]:
    """code → the check point row of the item version now in force (optionally only ``codes``)."""
    stmt = (select(CheckPoint).join(ItemVersion, ItemVersion.id == CheckPoint.version_id)
            .where(ItemVersion.state == wf.IN_FORCE).options(selectinload(CheckPoint.version)))
    if codes is not None:
        stmt = stmt.where(CheckPoint.code.in_(list(codes)))
    return {p.code: p for p in db.scalars(stmt)}


# --------------------------------------------------------------------------- templates


def _may_edit(actor: User | None) -> None:
    if actor is not None and not (actor.is_system_admin or any(actor.has_role(r) for r in EDITORS)):
        raise Forbidden(N_("Only an agency administrator or a legal reviewer edits checklist templates."))


def get_template(db: Session, *, template_id: int) -> ChecklistTemplate:
    template = db.get(ChecklistTemplate, template_id)
    if template is None:
        raise NotFound(N_("No such checklist template."))
    return template


def template_by_code(db: Session, code: str) -> ChecklistTemplate | None:
    return db.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == code.strip()))


def current_template_version(db: Session, template: ChecklistTemplate) -> TemplateVersion | None:
    if template.current_number is None:
        return None
    return db.scalar(select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                                   TemplateVersion.number == template.current_number))


def draft_of(db: Session, template: ChecklistTemplate) -> TemplateVersion | None:
    return db.scalar(select(TemplateVersion).where(TemplateVersion.template_id == template.id,
                                                   TemplateVersion.status == "draft"))


def list_templates(db: Session) -> list[tuple[ChecklistTemplate, TemplateVersion]]:
    """Each template with the version to show: in force, else its draft."""
    out = []
    for template in db.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.code)):
        version = current_template_version(db, template) or draft_of(db, template)
        if version is not None:
            out.append((template, version))
    return out


def _validated_points(db: Session, data: TemplateIn) -> list[TemplatePoint]:
    known = points_in_force(db)
    out, seen = [], set()
    domain_codes = _domain_codes(db)
    position = 0
    for s, section in enumerate(data.sections):
        for n, p in enumerate(section.points):
            where = f"sections[{s}].points[{n}]"
            if p.code not in known:
                raise Invalid(f"{where}.code", N_("No check point {code} in force in the catalog."), code=p.code)
            if p.code in seen:
                raise Invalid(f"{where}.code", N_("Check point {code} is in the template twice."), code=p.code)
            seen.add(p.code)
            when = rules.validate(p.when, domain_codes, field=f"{where}.when")
            out.append(TemplatePoint(position=position, section=section.title.strip(), point_code=p.code,
                                     mandatory=p.mandatory, when=when))
            position += 1
    if not out:
        raise Invalid("sections", N_("A template needs at least one check point."))
    if data.simplified and len(out) not in SIMPLIFIED_POINTS:
        raise Invalid("sections", N_("A simplified checklist has 8 to 12 points (this one has {n})."), n=len(out))
    return out


def _domain_codes(db: Session) -> Callable[[str], set[str]]:
    cache: dict[str, set[str]] = {}

    def known(domain: str) -> set[str]:
        if domain not in cache:
            cache[domain] = {i.code for i in ref.domain_items(db, domain)}
        return cache[domain]

    return known


def save_template(db: Session, *, data: TemplateIn, actor: User | None, expected_version: int | None = None,
                  publish: bool = False) -> TemplateVersion:
    """Create a template, or save its draft (a new draft copied from the version in force when
    there is none). ``publish``: the draft comes into force at once (the one before is superseded)."""
    _may_edit(actor)
    domain_codes = _domain_codes(db)
    applies = rules.validate(data.applies, domain_codes)
    items = [c for c in dict.fromkeys(data.items) if c]
    unknown = [c for c in items if db.scalar(select(SupervisionItem.id).where(SupervisionItem.code == c)) is None]
    if unknown:
        raise Invalid("items", N_("No catalog item {code}."), code=unknown[0])
    points = _validated_points(db, data)
    template = template_by_code(db, data.code)
    if template is None:
        template = ChecklistTemplate(code=data.code.strip(), domain=data.domain)
        db.add(template)
        db.flush()
    version = draft_of(db, template)
    if version is None:
        last = max((v.number for v in template.versions), default=0)
        version = TemplateVersion(template_id=template.id, number=last + 1, status="draft", name=data.name)
        db.add(version)
    elif expected_version is not None and version.version != expected_version:
        raise Conflict()
    version.name, version.item_codes, version.priority = data.name.strip(), items, data.priority
    version.simplified, version.applies, version.note = data.simplified, applies, data.note.strip()
    template.domain = data.domain or template.domain
    version.points = points
    db.flush()
    audit.record(db, actor=actor, action="catalog.template.save", object_type="checklist_template",
                 object_id=template.id, payload=data.model_dump(mode="json"),
                 detail={"code": template.code, "version": version.number})
    if publish:
        publish_template(db, template_id=template.id, actor=actor)
    return version


def publish_template(db: Session, *, template_id: int, actor: User | None) -> TemplateVersion:
    """The draft comes into force; the version before is superseded (checklists made from it keep it)."""
    _may_edit(actor)
    template = get_template(db, template_id=template_id)
    draft = draft_of(db, template)
    if draft is None:
        raise Conflict(N_("This template has no draft to publish."))
    previous = current_template_version(db, template)
    if previous is not None:
        previous.status = "superseded"
    draft.status, draft.published_at = "in_force", utcnow()
    template.current_number = draft.number
    db.flush()
    audit.record(db, actor=actor, action="catalog.template.publish", object_type="checklist_template",
                 object_id=template.id, payload={"number": draft.number}, detail={"code": template.code})
    return draft


# --------------------------------------------------------------------------- the smart checklist


def profile_of(db: Session, entity: Entity, on: dt.date) -> rules.Profile:
    licences = db.scalars(select(EntityLicence.licence_type).where(
        EntityLicence.entity_id == entity.id, EntityLicence.status == "valid",
        (EntityLicence.valid_until.is_(None)) | (EntityLicence.valid_until >= on)))
    tags = db.scalars(select(EntityTag.tag).where(EntityTag.entity_id == entity.id,
                                                  (EntityTag.until.is_(None)) | (EntityTag.until >= on)))
    return rules.Profile(kind=entity.kind or "", industry_code=entity.industry_code or "", scale=entity.scale or "",
                         risk_level=entity.risk_level or "", credit_class=entity.credit_class or "",
                         licence_types=frozenset(licences), tags=frozenset(tags))


@dataclass
class PlannedPoint:
    point: CheckPoint
    section: str
    mandatory: bool
    reason: str


@dataclass
class Plan:
    """What ``plan`` chose, before anything is saved (the CLI prints it; ``create`` stores it)."""

    entity: Entity
    item_codes: list[str]
    template: TemplateVersion | None
    reasons: list[str]
    points: list[PlannedPoint] = field(default_factory=list)
    candidates: list[tuple[TemplateVersion, list[str]]] = field(default_factory=list)  # also matching


def labeller(db: Session) -> Callable[[str, str], str]:
    def label(domain: str, code: str) -> str:
        if domain == "industry":
            return ref.industry_name(db, code) or ""
        return entity_codes.label(db, domain, code)

    return label


def plan(db: Session, *, entity: Entity, item_codes: Sequence[str] = (), on: dt.date | None = None) -> Plan:
    """Choose the template for ``entity`` (and the items, when given) and its points, with reasons.

    Among the templates in force that serve one of the items and whose rule matches, the most
    specific rule wins (most keys), then the higher priority. With no template matching, every
    point of the items is listed."""
    day = on or today_shanghai()
    profile = profile_of(db, entity, day)
    label = labeller(db)
    wanted = [c.strip() for c in item_codes if c.strip()]
    for code in wanted:
        if db.scalar(select(SupervisionItem.id).where(SupervisionItem.code == code,
                                                      SupervisionItem.status == "in_force")) is None:
            raise Invalid("item", N_("No catalog item {code} in force."), code=code)
    matching = []
    for _template, version in list_templates(db):
        if version.status != "in_force" or (wanted and not set(wanted) & set(version.item_codes)):
            continue
        ok, why = rules.evaluate(version.applies, profile, label)
        if ok:
            matching.append((version, why))
    matching.sort(key=lambda m: (-rules.specificity(m[0].applies), -m[0].priority, m[0].template_id))
    in_force = points_in_force(db)
    if matching:
        chosen, why = matching[0]
        reasons = [*why, gettext(N_("→ template {name}"), "zh_CN").format(name=chosen.name)]
        result = Plan(entity, wanted or list(chosen.item_codes), chosen, reasons, candidates=matching[1:])
        for tp in chosen.points:
            point = in_force.get(tp.point_code)
            if point is None:  # its item was retired or the point dropped since the template was made
                continue
            ok, extra = rules.evaluate(tp.when, profile, label)
            if not ok:
                continue
            reason = "；".join(extra) + f" → {tp.point_code}" if extra else gettext(
                N_("Template {name}, section {section}"), "zh_CN").format(name=chosen.name, section=tp.section)
            result.points.append(PlannedPoint(point, tp.section, tp.mandatory, reason))
        return result
    reasons = [gettext(N_("No template applies to this entity: every check point of the items is listed."),
                       "zh_CN")]
    result = Plan(entity, wanted, None, reasons)
    for point in sorted(in_force.values(), key=lambda p: (p.version.item.code, p.position)):
        if point.version.item.code in wanted:
            result.points.append(PlannedPoint(point, point.version.name, False,
                                              gettext(N_("Check point of item {code}"), "zh_CN").format(
                                                  code=point.version.item.code)))
    return result


def create(db: Session, *, entity: Entity, item_codes: Sequence[str] = (), actor: User | None,
           on: dt.date | None = None) -> Checklist:
    """Store the planned checklist for the officer (the inspection will record answers against it)."""
    chosen = plan(db, entity=entity, item_codes=item_codes, on=on)
    if not chosen.points:
        raise Invalid("item", N_("No check point applies: choose a catalog item for this entity."))
    checklist = Checklist(entity_id=entity.id, template_version_id=chosen.template.id if chosen.template else None,
                          item_codes=chosen.item_codes, reasons=chosen.reasons,
                          created_by=actor.id if actor else None)
    checklist.points = [ChecklistPoint(check_point_id=p.point.id, position=n, section=p.section,
                                       mandatory=p.mandatory, reason=p.reason[:300])
                        for n, p in enumerate(chosen.points)]
    db.add(checklist)
    db.flush()
    audit.record(db, actor=actor, action="catalog.checklist.create", object_type="checklist", object_id=checklist.id,
                 payload={"entity": entity.id, "points": [p.point.code for p in chosen.points]},
                 detail={"entity_id": entity.id, "template": chosen.template.name if chosen.template else None})
    return checklist


def get_checklist(db: Session, *, checklist_id: int) -> Checklist:
    checklist = db.get(Checklist, checklist_id)
    if checklist is None:
        raise NotFound(N_("No such checklist."))
    return checklist


def add_point(db: Session, *, checklist_id: int, code: str, actor: User, expected_version: int | None = None,
              section: str = "") -> ChecklistPoint:
    """An officer adds a check point from the catalog; who and when is kept on the row and audited."""
    checklist = get_checklist(db, checklist_id=checklist_id)
    if expected_version is not None and checklist.version != expected_version:
        raise Conflict()
    point = points_in_force(db, [code.strip()]).get(code.strip())
    if point is None:
        raise Invalid("code", N_("No check point {code} in force in the catalog."), code=code)
    if any(p.check_point.code == point.code for p in checklist.points):
        raise Conflict(N_("Check point {code} is on this checklist already."), code=point.code)
    row = ChecklistPoint(check_point_id=point.id, position=len(checklist.points), section=section or point.version.name,
                         mandatory=False, reason=gettext(N_("Added by the officer"), "zh_CN"), added_by=actor.id)
    checklist.points.append(row)
    checklist.updated_at = utcnow()
    db.flush()
    audit.record(db, actor=actor, action="catalog.checklist.add_point", object_type="checklist",
                 object_id=checklist.id, payload={"code": point.code}, detail={"code": point.code})
    return row


def remove_point(db: Session, *, checklist_id: int, code: str, actor: User, reason: str) -> None:
    """Drop an optional point (with a reason, audited). A mandatory point stays: it is answered or
    marked not applicable with a reason, never dropped."""
    checklist = get_checklist(db, checklist_id=checklist_id)
    row = next((p for p in checklist.points if p.check_point.code == code.strip()), None)
    if row is None:
        raise NotFound(N_("Check point {code} is not on this checklist."), code=code)
    if row.mandatory:
        raise Conflict(N_("{code} is a mandatory point: answer it or mark it not applicable with a reason."),
                       code=code)
    if not reason.strip():
        raise Invalid("reason", N_("Give the reason for dropping this point."))
    checklist.points.remove(row)
    db.flush()
    audit.record(db, actor=actor, action="catalog.checklist.remove_point", object_type="checklist",
                 object_id=checklist.id, payload={"code": code, "reason": reason}, detail={"code": code})


# --------------------------------------------------------------------------- the designer


DESIGN_OPS = ("add", "remove", "up", "down", "mandatory", "optional")


def open_draft(db: Session, *, template_id: int, actor: User | None) -> TemplateVersion:
    """The template's draft, made from the version in force when there is none yet."""
    _may_edit(actor)
    template = get_template(db, template_id=template_id)
    draft = draft_of(db, template)
    if draft is not None:
        return draft
    source = current_template_version(db, template)
    if source is None:
        raise Conflict(N_("This template has no version to start from."))
    draft = TemplateVersion(template_id=template.id, number=max(v.number for v in template.versions) + 1,
                            status="draft", name=source.name, item_codes=list(source.item_codes),
                            priority=source.priority, simplified=source.simplified, applies=dict(source.applies),
                            note=source.note)
    draft.points = [TemplatePoint(position=p.position, section=p.section, point_code=p.point_code,
                                  mandatory=p.mandatory, when=dict(p.when)) for p in source.points]
    db.add(draft)
    db.flush()
    return draft


def change_draft(db: Session, *, template_id: int, op: str, code: str, section: str = "",
                 expected_version: int | None = None, actor: User | None) -> TemplateVersion:
    """One step of the designer on the draft: add a point (to a section), remove, move up or down,
    make mandatory or optional. 409 when the draft was changed meanwhile."""
    if op not in DESIGN_OPS:
        raise Invalid("op", N_("Unknown designer action {op}."), op=op)
    draft = open_draft(db, template_id=template_id, actor=actor)
    if expected_version is not None and draft.version != expected_version:
        raise Conflict()
    points = list(draft.points)
    code = code.strip()
    at = next((i for i, p in enumerate(points) if p.point_code == code), None)
    if op == "add":
        if at is not None:
            raise Conflict(N_("Check point {code} is in the template twice."), code=code)
        if code not in points_in_force(db, [code]):
            raise Invalid("code", N_("No check point {code} in force in the catalog."), code=code)
        title = section.strip() or (points[-1].section if points else "")
        last = max((i for i, p in enumerate(points) if p.section == title), default=len(points) - 1)
        points.insert(last + 1, TemplatePoint(section=title, point_code=code, mandatory=False, when={}))
    elif at is None:
        raise NotFound(N_("Check point {code} is not on this checklist."), code=code)
    elif op == "remove":
        points.pop(at)
    elif op in ("up", "down"):
        other = at - 1 if op == "up" else at + 1
        if 0 <= other < len(points):
            points[at], points[other] = points[other], points[at]
            if points[at].section != points[other].section:  # crossing into the next section moves it there
                points[other].section = points[at].section
    else:
        points[at].mandatory = op == "mandatory"
    if draft.simplified and op == "add" and len(points) > max(SIMPLIFIED_POINTS):
        raise Invalid("code", N_("A simplified checklist has 8 to 12 points (this one has {n})."), n=len(points))
    for n, p in enumerate(points):
        p.position = n
    draft.points = points
    draft.updated_at = utcnow()
    db.flush()
    audit.record(db, actor=actor, action="catalog.template.design", object_type="checklist_template",
                 object_id=template_id, payload={"op": op, "code": code, "section": section},
                 detail={"op": op, "code": code})
    return draft
