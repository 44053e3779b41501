"""The six-step inspection loop (domain-rules §3.2): notice, preparation, the visit on a phone,
feedback, rectification and review. The transitions are declared in ``workflow.py``; the guards and
effects they name live here, with the steps taken between transitions (scheduling, showing
credentials, answering, attaching evidence, signing).

Nothing is recorded on site before the inspection's preparation is approved: answers, evidence and
signatures are accepted only while the inspection is ``on_site``, which only ``approve_preparation``
followed by ``start_visit`` (two officers having shown valid credentials) leads to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, object_session

from jianguan.audit import evidence as evidence_store
from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.catalog.models import CheckPoint
from jianguan.core import workflow
from jianguan.core.bulkload import load_frame
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_, gettext
from jianguan.core.models import WorkflowEvent
from jianguan.core.workdays import today_shanghai
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import (
    Answer,
    Draw,
    DrawAssignment,
    DrawEntity,
    Finding,
    Inspection,
    InspectionEvidence,
    InspectionOfficer,
    InspectionPlan,
)
from jianguan.officers import roster
from jianguan.officers.credentials import credential_validity
from jianguan.officers.models import Credential, Officer
from jianguan.reference import service as ref

NO_NOTICE = {"complaint": N_("Complaint-triggered: no advance notice (the complaint is verified as found)."),
             "unannounced": N_("Unannounced (四不两直): no advance notice.")}
# Calendar days to rectify a finding, by severity (the officer may set another date before the feedback).
RECTIFY_DAYS = {"general": 30, "serious": 15}
ANSWERS = ("yes", "no", "na")
# 我的任务 order: what is happening now first, then what the officer must do next.
URGENCY = {wf.ON_SITE: 0, wf.READY: 1, wf.FEEDBACK: 2, wf.PREPARING: 3, wf.NOTICE: 4, wf.REVIEWING: 5,
           wf.RECTIFYING: 6}
EVIDENCE_KINDS = ("photo", "video", "document", "interview", "report")


def today() -> dt.date:
    """Today in Shanghai for the loop's rules (one seam, so tests can set the day)."""
    return today_shanghai()


# --------------------------------------------------------------------------- who


def _officer_id(db: Session, actor: User) -> int | None:
    officer = roster.officer_for_user(db, actor)
    return officer.id if officer is not None else None


def on_team(record: Inspection, actor: User | None) -> bool:
    """Its officers act on an inspection; so do its agency's leaders and admins, and system admins."""
    if actor is None or actor.is_system_admin:
        return True
    if actor.agency_id == record.agency_id and actor.has_role(Role.leader, Role.agency_admin):
        return True
    db = object_session(record)
    officer_id = _officer_id(db, actor) if db is not None else None
    return officer_id is not None and any(o.officer_id == officer_id for o in record.officers)


def speaks_for(actor: User | None, entity_id: int) -> bool:
    """An entity user (企业端) of this entity."""
    return actor is not None and actor.entity_id == entity_id and actor.has_role(Role.entity_user)


def may_rectify(finding: Finding, actor: User | None) -> bool:
    """The entity rectifies through its own account (企业端); an officer of the team may record what the
    entity handed in on paper."""
    return speaks_for(actor, finding.entity_id) or on_team(finding.inspection, actor)


def recipients(db: Session, record: Inspection, escalation: workflow.Escalation) -> set[int]:
    """The team's officers with accounts; from 督办 on, the agency's leaders too."""
    ids = [o.officer_id for o in record.officers if o.officer_id is not None]
    from jianguan.officers.models import Officer

    out = set(db.scalars(select(Officer.user_id).where(Officer.id.in_(ids), Officer.user_id.is_not(None)))) if ids \
        else set()
    if escalation.level >= 2 or not out:
        users = db.scalars(select(User).where(User.is_active, User.agency_id == record.agency_id)).all()
        out |= {u.id for u in users if u.has_role(Role.leader)}
    return {int(u) for u in out if u is not None}


def recipients_many(db: Session, ids: Sequence[int], escalation: workflow.Escalation) -> dict[int, set[int]]:
    """``recipients`` for many inspections in a few queries (the overdue scan of a whole province)."""
    from jianguan.officers.models import Officer

    agency_of = dict(db.execute(select(Inspection.id, Inspection.agency_id).where(Inspection.id.in_(list(ids))))
                     .all())
    team: dict[int, set[int]] = defaultdict(set)
    for inspection_id, user_id in db.execute(
            select(InspectionOfficer.inspection_id, Officer.user_id)
            .join(Officer, Officer.id == InspectionOfficer.officer_id)
            .where(InspectionOfficer.inspection_id.in_(list(ids)), Officer.user_id.is_not(None))):
        if user_id is not None:
            team[inspection_id].add(int(user_id))
    leaders: dict[int, set[int]] = defaultdict(set)
    for user in db.scalars(select(User).where(User.is_active, User.agency_id.in_(set(agency_of.values())))):
        if user.has_role(Role.leader) and user.agency_id is not None:
            leaders[user.agency_id].add(user.id)
    return {i: team[i] | (leaders[a] if escalation.level >= 2 or not team[i] else set())
            for i, a in agency_of.items()}


# --------------------------------------------------------------------------- creation


def _next_codes(db: Session, agency_code: str, agency_id: int, year: int, n: int) -> list[str]:
    prefix = f"{agency_code}-JC{year}-"
    existing = db.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.agency_id == agency_id, Inspection.code.like(f"{prefix}%"))) or 0
    return [f"{prefix}{existing + i:06d}" for i in range(1, n + 1)]


def create_from_draw(db: Session, plan: InspectionPlan, draw: Draw, *, actor: User | None) -> int:
    """One inspection per drawn entity, with the draw's team, written in bulk when the plan begins.
    Each gets its ``start`` event; one audit entry covers the batch (with the hash of its codes)."""
    drawn = pl.DataFrame(db.execute(
        select(DrawEntity.entity_id, Entity.region_code).join(Entity, Entity.id == DrawEntity.entity_id)
        .where(DrawEntity.draw_id == draw.id).order_by(DrawEntity.position)).all(),
        schema={"entity_id": pl.Int64, "region_code": pl.Utf8}, orient="row")
    if drawn.height == 0:
        return 0
    now = utcnow()
    silent = plan.kind in NO_NOTICE
    state = wf.PREPARING if silent else wf.NOTICE
    reason = gettext(NO_NOTICE[plan.kind]) if silent else ""  # the record keeps the Chinese text
    codes = _next_codes(db, plan.agency.code, plan.agency_id, plan.starts_on.year, drawn.height)
    rows = drawn.with_columns(
        code=pl.Series(codes), plan_id=pl.lit(plan.id), draw_id=pl.lit(draw.id), agency_id=pl.lit(plan.agency_id),
        kind=pl.lit(plan.kind), method=pl.lit(plan.methods[0] if plan.methods else "on_site"),
        item_codes=pl.lit(audit.canonical(plan.item_codes).decode()), notice_required=pl.lit(not silent),
        notice_skip_reason=pl.lit(reason), signed_by=pl.lit(""), refusal_reason=pl.lit(""),
        workflow=pl.lit(wf.INSPECTION.name), state=pl.lit(state), state_since=pl.lit(now),
        due_unconfirmed=pl.lit(False), escalation_level=pl.lit(0), created_at=pl.lit(now), updated_at=pl.lit(now),
        version=pl.lit(1))
    load_frame(db, Inspection.__table__, rows)
    made = pl.DataFrame(db.execute(select(Inspection.id, Inspection.entity_id).where(
        Inspection.plan_id == plan.id, Inspection.draw_id == draw.id)).all(),
        schema={"id": pl.Int64, "entity_id": pl.Int64}, orient="row")
    team = pl.DataFrame(db.execute(select(DrawAssignment.entity_id, DrawAssignment.officer_id,
                                          DrawAssignment.expert_id, DrawAssignment.domain)
                                   .where(DrawAssignment.draw_id == draw.id)).all(),
                        schema={"entity_id": pl.Int64, "officer_id": pl.Int64, "expert_id": pl.Int64,
                                "domain": pl.Utf8}, orient="row")
    cards = _credential_numbers(db, team["officer_id"].drop_nulls().unique().to_list(), draw.inspection_date)
    officers = (team.join(made, on="entity_id").rename({"id": "inspection_id"})
                .with_columns(credential_number=pl.col("officer_id").replace_strict(cards, default="",
                                                                                    return_dtype=pl.Utf8))
                .select("inspection_id", "officer_id", "expert_id", "domain", "credential_number"))
    load_frame(db, InspectionOfficer.__table__, officers)
    by = actor.username if actor is not None else workflow.SYSTEM
    events = made.select(
        pl.lit(wf.INSPECTION.name).alias("workflow"), pl.lit(Inspection.__tablename__).alias("record_type"),
        pl.col("id").alias("record_id"), pl.lit("start").alias("action"), pl.lit(state).alias("to_state"),
        pl.lit(actor.id if actor is not None else None, pl.Int64).alias("actor_id"), pl.lit(by).alias("actor_name"),
        pl.lit(now).alias("at"), pl.lit(reason).alias("comment"),
        pl.lit("").alias("payload_hash"))
    load_frame(db, WorkflowEvent.__table__, events)
    audit.record(db, actor=actor, action="inspection.create_from_draw", object_type="inspection_plan",
                 object_id=plan.id, payload={"draw_id": draw.id, "codes": codes},
                 detail={"draw_id": draw.id, "count": len(codes), "first": codes[0], "last": codes[-1],
                         "codes_sha256": hashlib.sha256("\n".join(codes).encode()).hexdigest()})
    _tell_teams(db, plan, officers, actor)
    db.expire_all()
    return len(codes)


def _tell_teams(db: Session, plan: InspectionPlan, officers: pl.DataFrame, actor: User | None) -> None:
    """Each officer with an account hears once how many of the plan's inspections are theirs."""
    from jianguan.notify import service as notify

    counts = officers.drop_nulls("officer_id").group_by("officer_id").len()
    if counts.height == 0:
        return
    accounts: dict[int, int] = {o: u for o, u in db.execute(select(Officer.id, Officer.user_id).where(
        Officer.id.in_(counts["officer_id"].to_list()), Officer.user_id.is_not(None))) if u is not None}
    for officer_id, n in counts.iter_rows():
        if officer_id in accounts:
            notify.send(db, user_ids=[accounts[officer_id]], kind="inspection.assigned", actor=actor,
                        title=N_("{count} inspection(s) of {plan} assigned to you"), link="/inspections/tasks",
                        params={"count": n, "plan": plan.code})


def _credential_numbers(db: Session, officer_ids: Sequence[int], on: dt.date) -> dict[int, str]:
    out: dict[int, str] = {}
    if not officer_ids:
        return out
    for card in db.scalars(select(Credential).where(Credential.officer_id.in_(list(officer_ids)))
                           .order_by(Credential.expires_on)):
        if credential_validity(card, on)[0]:
            out[card.officer_id] = card.number
    return out


def ensure_plan_done(db: Session, plan: InspectionPlan) -> None:
    """A plan closes when each of its inspections is closed (销号) or cancelled."""
    still = db.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.plan_id == plan.id, Inspection.state.not_in((wf.DONE, wf.CANCELLED)))) or 0
    if still:
        raise Invalid("inspections", N_("{n} inspections of this plan are still open."), n=still)


def plan_progress(db: Session, plan_id: int) -> dict[str, int]:
    """Inspections of a plan per state (for its page and the coverage figures)."""
    return {str(s): int(n) for s, n in db.execute(select(Inspection.state, func.count()).where(
        Inspection.plan_id == plan_id).group_by(Inspection.state))}


# --------------------------------------------------------------------------- reading


def get_inspection(db: Session, *, inspection_id: int, actor: User | None) -> Inspection:
    record = db.get(Inspection, inspection_id)
    if record is None or (actor is not None and not (can_see(record, actor) or on_team(record, actor)
                                                     or speaks_for(actor, record.entity_id))):
        raise NotFound(N_("No such inspection."))
    return record


def my_inspections(db: Session, *, actor: User, states: Sequence[str] = (), offset: int = 0,
                   limit: int = 50) -> tuple[list[Inspection], int]:
    """The inspections the actor is on (an officer's 我的任务), soonest due first."""
    officer_id = _officer_id(db, actor)
    if officer_id is None:
        return [], 0
    mine = select(InspectionOfficer.inspection_id).where(InspectionOfficer.officer_id == officer_id)
    stmt = select(Inspection).where(Inspection.id.in_(mine))
    if states:
        stmt = stmt.where(Inspection.state.in_(list(states)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    urgency = case(URGENCY, value=Inspection.state, else_=len(URGENCY))
    rows = db.scalars(stmt.order_by(urgency, Inspection.due_date.is_(None), Inspection.due_date,
                                    Inspection.scheduled_on.is_(None), Inspection.scheduled_on, Inspection.id)
                      .offset(offset).limit(limit))
    return list(rows), int(total)


def list_inspections(db: Session, *, actor: User, plan_id: int | None = None, state: str = "", offset: int = 0,
                     limit: int = 50) -> tuple[list[Inspection], int]:
    stmt = select(Inspection).where(visible(Inspection, actor))
    if plan_id is not None:
        stmt = stmt.where(Inspection.plan_id == plan_id)
    if state:
        stmt = stmt.where(Inspection.state == state)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(db.scalars(stmt.order_by(Inspection.id).offset(offset).limit(limit))), int(total)


def entity_findings(db: Session, *, actor: User) -> list[Finding]:
    """企业端: the findings of the entity the user speaks for, open ones first."""
    if actor.entity_id is None or not actor.has_role(Role.entity_user):
        raise Forbidden(N_("This page is for the accounts of supervised entities (企业端)."))
    rows = db.scalars(select(Finding).where(Finding.entity_id == actor.entity_id)
                      .order_by(Finding.state.in_((wf.ACCEPTED, wf.TRANSFERRED)), Finding.rectify_by, Finding.id))
    return list(rows)


# --------------------------------------------------------------------------- steps between transitions


def _in_state(record: Inspection, *states: str) -> None:
    if record.state not in states:
        raise Conflict(N_("Not possible while the inspection is {state}."), state=record.state)


def _team_only(record: Inspection, actor: User | None) -> None:
    if not on_team(record, actor):
        raise Forbidden(N_("Only the inspection's officers may do this."))


def schedule(db: Session, *, inspection_id: int, on: dt.date, method: str = "", expected_version: int | None = None,
             actor: User | None) -> Inspection:
    """Set the visit date (and, among the plan's methods, how: on site, by documents, online or by
    remote video — the same record either way); while the notice is to be given, its due date follows."""
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    check_version(record, expected_version)
    _team_only(record, actor)
    _in_state(record, wf.NOTICE, wf.PREPARING, wf.READY)
    plan = db.get(InspectionPlan, record.plan_id) if record.plan_id else None
    if on < today_shanghai():
        raise Invalid("scheduled_on", N_("The visit cannot be scheduled in the past."))
    if plan is not None and not plan.starts_on <= on <= plan.ends_on:
        raise Invalid("scheduled_on", N_("The visit must fall within the plan's period ({start} – {end})."),
                      start=plan.starts_on.isoformat(), end=plan.ends_on.isoformat())
    if method and method != record.method:
        allowed = plan.methods if plan is not None else [i.code for i in ref.domain_items(db, "inspection_method")]
        if method not in allowed:
            raise Invalid("method", N_("The method must be one of the plan's: {allowed}."),
                          allowed=", ".join(allowed))
        record.method = method
    record.scheduled_on = on
    if record.state == wf.NOTICE:
        due = workflow.calendar(db).working_days_before(on, wf.NOTICE_WORKING_DAYS)
        record.due_date, record.due_unconfirmed = due.date, due.unconfirmed
    db.flush()
    audit.record(db, actor=actor, action="inspection.schedule", object_type="inspection", object_id=record.id,
                 payload={"scheduled_on": on.isoformat(), "method": record.method},
                 detail={"code": record.code, "on": on.isoformat(), "method": record.method})
    return record


def decide(db: Session, *, inspection_id: int, action: str, comment: str = "", expected_version: int | None = None,
           actor: User | None) -> Inspection:
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    workflow.act(db, record, action=action, actor=actor, comment=comment, expected_version=expected_version)
    return record


def prepare(db: Session, *, inspection_id: int, actor: User | None) -> Inspection:
    """The inspection's own checklist, chosen by the smart checklist service for the entity; its points
    become the answer sheet (mandatory ones marked). Re-running replaces an unapproved sheet."""
    from jianguan.catalog import checklists

    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    _team_only(record, actor)
    _in_state(record, wf.PREPARING)
    entity = db.get(Entity, record.entity_id)
    assert entity is not None
    checklist = checklists.create(db, entity=entity, item_codes=record.item_codes, actor=actor)
    for old in list(record.answers):
        db.delete(old)
    db.flush()
    for position, point in enumerate(checklist.points):
        db.add(Answer(inspection_id=record.id, point_code=point.check_point.code, position=position,
                      check_point_id=point.check_point_id, text=point.check_point.text, mandatory=point.mandatory))
    record.checklist_id = checklist.id
    db.flush()
    db.refresh(record)
    return record


def show_credential(db: Session, *, inspection_id: int, actor: User,
                    officer_id: int | None = None) -> InspectionOfficer:
    """亮证: an officer of the team records that they (or, on the team's one phone, a teammate) showed
    their credential to the entity; the credential must be valid today."""
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    _in_state(record, wf.READY, wf.ON_SITE)
    mine = _officer_id(db, actor)
    if mine is None or not any(o.officer_id == mine for o in record.officers):
        raise Forbidden(N_("Only the inspection's officers may do this."))
    target = officer_id if officer_id is not None else mine
    member = next((o for o in record.officers if o.officer_id == target), None)
    if member is None:
        raise Invalid("officer_id", N_("This officer is not on the inspection's team."))
    today = today_shanghai()
    cards = db.scalars(select(Credential).where(Credential.officer_id == target)
                       .order_by(Credential.expires_on.desc())).all()
    valid = next((c for c in cards if credential_validity(c, today)[0]), None)
    if valid is None:
        raise Invalid("credential", N_("No credential valid today: this officer cannot inspect."))
    member.credential_number, member.shown_at = valid.number, utcnow()
    db.flush()
    audit.record(db, actor=actor, action="inspection.credential_shown", object_type="inspection",
                 object_id=record.id, payload={"officer_id": target, "credential": valid.number},
                 detail={"officer_id": target, "credential": valid.number, "recorded_by_officer": mine})
    return member


def _answer_row(record: Inspection, point_code: str) -> Answer:
    row = next((a for a in record.answers if a.point_code == point_code), None)
    if row is None:
        raise Invalid("point_code", N_("The checklist has no point {code}."), code=point_code)
    return row


def save_answer(db: Session, *, inspection_id: int, point_code: str, answer: str | None = None, value: str = "",
                note: str = "", actor: User) -> Answer:
    """Save one point's answer as the officer goes (the same call again overwrites: retries are safe).
    A number outside the point's limits is recorded as not met."""
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    _team_only(record, actor)
    _in_state(record, wf.ON_SITE)
    row = _answer_row(record, point_code)
    answer = (answer or "").strip() or None
    if answer is not None and answer not in ANSWERS:
        raise Invalid("answer", N_("An answer is yes, no or na."))
    value, note = value.strip()[:200], note.strip()
    point = db.get(CheckPoint, row.check_point_id) if row.check_point_id else None
    if value and point is not None and point.answer_type == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise Invalid("value", N_("{value} is not a number."), value=value) from None
        outside = ((point.min_value is not None and number < point.min_value)
                   or (point.max_value is not None and number > point.max_value))
        answer = "no" if outside else (answer or "yes")
    if answer == "na" and not note:
        raise Invalid("note", N_("Say why the point does not apply."))
    row.answer, row.value, row.note = answer, value, note
    row.answered_by, row.answered_at = actor.id, utcnow()
    db.flush()
    return row


def _number(field: str, value: float | str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise Invalid(field, N_("{value} is not a number."), value=value) from None


def attach(db: Session, *, inspection_id: int, stream: Any, filename: str, content_type: str | None, kind: str,
           actor: User, point_code: str = "", finding_id: int | None = None, taken_at: dt.datetime | None = None,
           latitude: float | str | None = None, longitude: float | str | None = None,
           note: str = "") -> InspectionEvidence:
    """Keep a photo, video or document (by SHA-256, in the audit chain) and link it to the inspection."""
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    if finding_id is None:
        _team_only(record, actor)
        _in_state(record, wf.ON_SITE, wf.FEEDBACK, wf.REVIEWING)
    else:  # rectification evidence: the entity's own account, or the team recording it
        finding = get_finding(db, finding_id=finding_id, actor=actor)
        if finding.inspection_id != record.id or not may_rectify(finding, actor):
            raise Forbidden(N_("Only the entity or the inspection's officers may add rectification evidence."))
        if finding.state not in (wf.OPEN, wf.PLAN_SUBMITTED, wf.RECTIFYING):
            raise Conflict(N_("This finding takes no more evidence."))
    if kind not in EVIDENCE_KINDS:
        raise Invalid("kind", N_("Evidence is a photo, video, document, interview or report."))
    if point_code:
        _answer_row(record, point_code)
    lat, lon = _number("latitude", latitude), _number("longitude", longitude)
    stored = evidence_store.store_evidence(db, stream=stream, filename=filename, content_type=content_type,
                                           actor=actor, taken_at=taken_at,
                                           latitude=float(lat) if lat is not None else None,
                                           longitude=float(lon) if lon is not None else None, note=note)
    row = InspectionEvidence(inspection_id=record.id, finding_id=finding_id, point_code=point_code, kind=kind,
                             sha256=stored.sha256, filename=stored.filename, content_type=stored.content_type,
                             taken_at=stored.taken_at, latitude=lat, longitude=lon, note=note, uploaded_by=actor.id)
    db.add(row)
    db.flush()
    if stored.content_type.startswith("video/"):  # the thumbnail timeline of the video
        evidence_store.key_frames(db, sha256=stored.sha256, actor=actor)
    return row


def sign(db: Session, *, inspection_id: int, signer: str, stream: Any, actor: User) -> Inspection:
    """The representative signs on the screen: the PNG is kept as evidence, its hash on the record."""
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    _team_only(record, actor)
    _in_state(record, wf.ON_SITE)
    if len(signer.strip()) < 2:
        raise Invalid("signer", N_("Write the name of the person signing."))
    stored = evidence_store.store_evidence(db, stream=stream, filename="signature.png", content_type="image/png",
                                           actor=actor, note=f"签名：{signer.strip()}")
    db.add(InspectionEvidence(inspection_id=record.id, kind="signature", sha256=stored.sha256,
                              filename="signature.png", content_type="image/png", uploaded_by=actor.id,
                              note=signer.strip()))
    record.signed_by, record.signature_sha256, record.refusal_reason = signer.strip(), stored.sha256, ""
    db.flush()
    return record


def refuse_signature(db: Session, *, inspection_id: int, reason: str, actor: User) -> Inspection:
    record = get_inspection(db, inspection_id=inspection_id, actor=actor)
    _team_only(record, actor)
    _in_state(record, wf.ON_SITE)
    if len(reason.strip()) < 2:
        raise Invalid("refusal_reason", N_("Record why the representative would not sign."))
    record.refusal_reason, record.signature_sha256, record.signed_by = reason.strip(), None, ""
    db.flush()
    audit.record(db, actor=actor, action="inspection.signature_refused", object_type="inspection",
                 object_id=record.id, payload={"reason": record.refusal_reason}, detail={"code": record.code})
    return record


def set_rectify_by(db: Session, *, finding_id: int, on: dt.date, actor: User | None) -> Finding:
    finding = get_finding(db, finding_id=finding_id, actor=actor)
    _team_only(finding.inspection, actor)
    _in_state(finding.inspection, wf.FEEDBACK)
    if on <= today_shanghai():
        raise Invalid("rectify_by", N_("The rectification deadline must be after today."))
    finding.rectify_by = on
    finding.due_date = on
    db.flush()
    return finding


def get_finding(db: Session, *, finding_id: int, actor: User | None) -> Finding:
    finding = db.get(Finding, finding_id)
    if finding is None:
        raise NotFound(N_("No such finding."))
    get_inspection(db, inspection_id=finding.inspection_id, actor=actor)
    return finding


def decide_finding(db: Session, *, finding_id: int, action: str, comment: str = "",
                   payload: dict[str, Any] | None = None, expected_version: int | None = None,
                   actor: User | None) -> Finding:
    finding = get_finding(db, finding_id=finding_id, actor=actor)
    workflow.act(db, finding, action=action, actor=actor, comment=comment, payload=payload,
                 expected_version=expected_version)
    return finding


def board(db: Session, *, actor: User, limit: int = 200) -> dict[str, list[Any]]:
    """督办 board and rectification queue in the actor's scope: escalated findings and inspections (督办 and
    挂牌督办), and findings waiting for an officer (a plan or evidence to check)."""
    escalated_findings = list(db.scalars(
        select(Finding).where(visible(Finding, actor), Finding.escalation_level >= 2,
                              Finding.state.not_in((wf.ACCEPTED, wf.TRANSFERRED)))
        .order_by(Finding.escalation_level.desc(), Finding.due_date, Finding.id).limit(limit)))
    escalated_visits = list(db.scalars(
        select(Inspection).where(visible(Inspection, actor), Inspection.escalation_level >= 2,
                                 Inspection.state.not_in((wf.DONE, wf.CANCELLED)))
        .order_by(Inspection.escalation_level.desc(), Inspection.due_date, Inspection.id).limit(limit)))
    waiting = list(db.scalars(
        select(Finding).where(visible(Finding, actor), Finding.state.in_((wf.PLAN_SUBMITTED, wf.EVIDENCE_SUBMITTED)))
        .order_by(Finding.state_since, Finding.id).limit(limit)))
    return {"findings": escalated_findings, "inspections": escalated_visits, "waiting": waiting}
