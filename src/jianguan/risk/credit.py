"""信用反馈 (issue 9 §2): inspection and enforcement outcomes become a proposed credit class, which a
leader of the entity's agency accepts into the credit class history or rejects with a reason.

Why a proposal and not a direct change: a credit class restricts an enterprise (sampling rate, lists,
joint punishment), so a person answerable for it decides, seeing each event, its count and points.
The events are counted with one grouped query each over the window and combined in Polars; the
points and the class mapping are data (``risk/data/credit_rules.yaml``, docs/credit.md). The two
derived lists (合规企业名录, 联合惩戒名单) live in ``credit_lists`` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from jianguan.audit import service as audit
from jianguan.auth.models import DataScope, Role, User
from jianguan.auth.scope import ensure_visible, visible
from jianguan.cases.models import Case
from jianguan.core.bulkload import one_of, select_frame
from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.models import WorkflowEvent
from jianguan.core.workdays import SHANGHAI, day_start, today_shanghai
from jianguan.db import utcnow
from jianguan.entities import service as entities
from jianguan.entities.models import Entity
from jianguan.inspections import workflow as iwf
from jianguan.inspections.models import Finding, Inspection
from jianguan.risk import credit_rules
from jianguan.risk.credit_lists import (  # the service's public face
    COMPLIANT_HEADERS,
    PUNISHMENT_HEADERS,
    compliant,
    export,
    joint_punishment,
)
from jianguan.risk.credit_models import ACCEPTED, PROPOSED, REJECTED, CreditProposal
from jianguan.risk.credit_rules import EVENTS, RuleSet, months_back

SOURCE = "credit_feedback"  # the credit history's source for an accepted proposal
DECIDERS = (Role.leader, Role.agency_admin)
RUNNERS = (Role.leader, Role.agency_admin, Role.system_admin)
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


# --------------------------------------------------------------------------- counting the events


def _scoped(db: Session, stmt: AnySelect, column: Any, where: Sequence[ColumnElement[bool]]) -> AnySelect:
    """Only the evaluated entities' rows (an explicit list, or the actor's scope)."""
    return stmt.where(column.in_(select(Entity.id).where(*where))) if where else stmt


def _grouped(first: dt.date, as_of: dt.date) -> dict[str, Select[Any, Any]]:
    """One grouped query (entity_id, count) per counted event, over [first, as_of]."""
    lo, hi = day_start(first), day_start(as_of + dt.timedelta(days=1))
    visited = func.coalesce(Inspection.visit_ended_at, Inspection.visit_started_at)
    in_window = and_(visited >= lo, visited < hi)
    findings = select(Finding.entity_id, func.count()).where(Finding.created_at >= lo, Finding.created_at < hi)
    penalties = select(Case.entity_id, func.count()).where(
        Case.entity_id.is_not(None), Case.outcome == "penalty", Case.decided_on >= first, Case.decided_on <= as_of
    )
    return {
        "cooperation": select(Inspection.entity_id, func.count())
        .where(
            Inspection.state == iwf.DONE,
            Inspection.result == "no_problem",
            Inspection.signature_sha256.is_not(None),
            Inspection.refusal_reason == "",
            in_window,
        )
        .group_by(Inspection.entity_id),
        "refusal": select(Inspection.entity_id, func.count())
        .where(Inspection.refusal_reason != "", Inspection.state != iwf.CANCELLED, in_window)
        .group_by(Inspection.entity_id),
        "finding_general": findings.where(Finding.severity != "serious").group_by(Finding.entity_id),
        "finding_serious": findings.where(Finding.severity == "serious").group_by(Finding.entity_id),
        "rectification_rejected": select(Finding.entity_id, func.count())
        .select_from(WorkflowEvent)
        .join(Finding, and_(WorkflowEvent.record_type == Finding.__tablename__, WorkflowEvent.record_id == Finding.id))
        .where(
            WorkflowEvent.workflow == "finding",
            WorkflowEvent.action == "reject",
            WorkflowEvent.at >= lo,
            WorkflowEvent.at < hi,
        )
        .group_by(Finding.entity_id),
        "penalty": penalties.where(Case.severe.is_(False)).group_by(Case.entity_id),
        "penalty_severe": penalties.where(Case.severe.is_(True)).group_by(Case.entity_id),
    }


def _rectification(db: Session, first: dt.date, as_of: dt.date, where: Sequence[ColumnElement[bool]]) -> pl.DataFrame:
    """Per entity: findings accepted within the window on or before their date (``rectified_in_time``),
    and findings whose date fell in the window, before ``as_of``, without an acceptance by then
    (``rectification_late``; transferred to a case: the penalty counts instead). The acceptance day is
    the Shanghai day the finding entered ``accepted`` (its last state: ``state_since``)."""
    lo, hi = day_start(first), day_start(as_of + dt.timedelta(days=1))
    accepted = and_(Finding.state == iwf.ACCEPTED, Finding.state_since >= lo, Finding.state_since < hi)
    due = and_(Finding.rectify_by >= first, Finding.rectify_by < as_of)
    stmt = _scoped(
        db,
        select(Finding.entity_id, Finding.state, Finding.rectify_by, Finding.state_since).where(or_(accepted, due)),
        Finding.entity_id,
        where,
    )
    rows = pl.DataFrame(
        db.execute(stmt).all(),
        orient="row",
        schema={"entity_id": pl.Int64, "state": pl.Utf8, "rectify_by": pl.Date, "since": pl.Datetime("us", "UTC")},
    )
    day = pl.col("since").dt.convert_time_zone(str(SHANGHAI)).dt.date()
    is_accepted = (pl.col("state") == iwf.ACCEPTED) & (day <= as_of)
    on_time = is_accepted & (day <= pl.col("rectify_by"))
    timely = on_time & (day >= first)
    late = (
        pl.col("rectify_by").is_between(first, as_of, closed="left")
        & (pl.col("state") != iwf.TRANSFERRED)
        & ~on_time.fill_null(False)
        & ~((pl.col("state") == iwf.ACCEPTED) & pl.col("since").is_null())
    )
    return rows.group_by("entity_id").agg(
        timely.fill_null(False).sum().cast(pl.Int64).alias("rectified_in_time"),
        late.fill_null(False).sum().cast(pl.Int64).alias("rectification_late"),
    )


def counts(db: Session, *, as_of: dt.date, rules: RuleSet, where: Sequence[ColumnElement[bool]]) -> pl.DataFrame:
    """One row per entity evaluated: ``entity_id``, ``agency_id``, ``region_code``, ``status``,
    ``current`` (class) and one count column per event of the window."""
    first = months_back(as_of, rules.window_months)
    base = select(Entity.id, Entity.agency_id, Entity.region_code, Entity.status, Entity.credit_class).where(*where)
    frame = select_frame(
        db,
        base,
        {"entity_id": pl.Int64, "agency_id": pl.Int64, "region_code": pl.Utf8, "status": pl.Utf8, "current": pl.Utf8},
    )
    for event, stmt in _grouped(first, as_of).items():
        part = select_frame(
            db, _scoped(db, stmt, stmt.selected_columns[0], where), {"entity_id": pl.Int64, event: pl.Int64}
        )
        frame = frame.join(part, on="entity_id", how="left")
    frame = frame.join(_rectification(db, first, as_of, where), on="entity_id", how="left")
    return frame.with_columns(pl.col(list(EVENTS)).fill_null(0).cast(pl.Int64))


# --------------------------------------------------------------------------- points → proposals


def propose(frame: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Add ``points``, ``proposed`` (None: no change), ``step`` (the mapping entry) and ``reasons``.

    Pure Polars over the counts, so the tests and the run use one arithmetic. The first entry whose
    conditions all hold decides; ``better``/``worse`` need a current class, ``to`` does not."""
    classes = rules.classes
    points = pl.sum_horizontal([pl.col(e) * rules.events[e].points for e in EVENTS])
    index = pl.col("current").replace_strict({c: i for i, c in enumerate(classes)}, default=None, return_dtype=pl.Int64)
    by_index = {i: c for i, c in enumerate(classes)}
    proposed: pl.Expr = pl.lit(None, pl.Utf8)
    step: pl.Expr = pl.lit(None, pl.Utf8)
    for entry in reversed(rules.proposals):
        w = entry.when
        conditions = [pl.lit(True)]
        if w.points_at_least is not None:
            conditions.append(pl.col("points") >= w.points_at_least)
        if w.points_at_most is not None:
            conditions.append(pl.col("points") <= w.points_at_most)
        if w.any_of:
            conditions.append(pl.any_horizontal([pl.col(e) > 0 for e in w.any_of]))
        conditions += [pl.col(e) == 0 for e in w.none_of]
        if entry.to is not None:
            target = pl.lit(entry.to, pl.Utf8)
        else:
            moved = index - (entry.better or 0) + (entry.worse or 0)
            target = moved.clip(0, len(classes) - 1).replace_strict(by_index, default=None, return_dtype=pl.Utf8)
        holds = pl.all_horizontal(conditions)
        proposed = pl.when(holds).then(target).otherwise(proposed)
        step = pl.when(holds).then(pl.lit(entry.label)).otherwise(step)
    reasons = pl.concat_list(
        [
            pl.when(pl.col(e) > 0).then(
                pl.struct(
                    event=pl.lit(e),
                    label=pl.lit(rules.events[e].label),
                    count=pl.col(e),
                    points=pl.col(e) * rules.events[e].points,
                )
            )
            for e in EVENTS
        ]
    ).list.drop_nulls()
    return frame.with_columns(points.cast(pl.Int64).alias("points")).with_columns(
        proposed.alias("proposed"), step.alias("step"), reasons.alias("events")
    )


def _reasons_json(events: list[dict[str, Any]], step: str) -> str:
    return json.dumps({"events": events, "step": step}, ensure_ascii=False, sort_keys=True)


def reason_text(proposal: CreditProposal) -> str:
    """The proposal's reasons as one Chinese sentence (what the credit history keeps)."""
    reasons = proposal.reasons or {}
    parts = [f"{e['label']}{e['count']}次 {e['points']:+d}分" for e in reasons.get("events", [])]
    current = proposal.current_class or "未评级"
    text = (
        f"信用反馈（{proposal.rule_version}，评价截至{proposal.evaluated_on.isoformat()}）："
        f"{'；'.join(parts) or '无计分事项'}；合计{proposal.points:+d}分。"
        f"{reasons.get('step', '')}（{current}→{proposal.proposed_class}）。"
    )
    if proposal.decision_note:
        text += f"决定意见：{proposal.decision_note}"
    return text


# --------------------------------------------------------------------------- the run


def _where(actor: User | None, entity_ids: Sequence[int] | None, db: Session) -> list[ColumnElement[bool]]:
    """What limits the evaluated entities: the actor's scope, the ids asked for; nothing for the system."""
    where: list[ColumnElement[bool]] = []
    if actor is not None and actor.data_scope != DataScope.all.value:
        where.append(visible(Entity, actor))
    if entity_ids is not None:
        where.append(one_of(db, Entity.id, list(entity_ids)))
    return where


def evaluate(
    db: Session, *, as_of: dt.date | None = None, entity_ids: Sequence[int] | None = None, actor: User | None
) -> dict[str, Any]:
    """Evaluate the active entities the actor may see (or ``entity_ids``) and keep one open proposal per
    entity whose proposed class differs from its current one: new ones are added, changed ones replaced
    (their version moves on, so a form opened before is refused), unchanged ones kept, and open ones no
    longer warranted withdrawn. Flushes and audits; never commits."""
    if actor is not None and not actor.has_role(*RUNNERS):
        raise Forbidden(N_("Only leaders and administrators evaluate credit feedback."))
    as_of = as_of or today_shanghai()
    rules = credit_rules.in_force(as_of)
    where = _where(actor, entity_ids, db)
    frame = propose(counts(db, as_of=as_of, rules=rules, where=where), rules)
    wanted = frame.filter(
        pl.col("status") == "active",
        pl.col("proposed").is_not_null(),
        pl.col("proposed") != pl.col("current").fill_null(""),
    )
    rows = [
        {**r, "reasons": _reasons_json(r["events"], r["step"])}
        for r in wanted.select(
            "entity_id", "agency_id", "region_code", "current", "proposed", "points", "events", "step"
        ).to_dicts()
    ]
    open_rows = (
        db.execute(
            _scoped(db, select(CreditProposal).where(CreditProposal.state == PROPOSED), CreditProposal.entity_id, where)
        )
        .scalars()
        .all()
    )
    existing = {p.entity_id: p for p in open_rows}
    added, replaced, kept = [], [], 0
    for row in rows:
        old = existing.pop(row["entity_id"], None)
        if old is None:
            added.append(row)
        elif (
            old.current_class,
            old.proposed_class,
            old.points,
            old.rule_version,
            _reasons_json(old.reasons.get("events", []), old.reasons.get("step", "")),
        ) != (row["current"], row["proposed"], row["points"], rules.version, row["reasons"]):
            replaced.append((old, row))
        else:
            kept += 1
    now = utcnow()
    try:
        for old, row in replaced:
            old.current_class, old.proposed_class, old.points = row["current"], row["proposed"], row["points"]
            old.reasons, old.rule_version, old.evaluated_on = json.loads(row["reasons"]), rules.version, as_of
            old.agency_id, old.region_code = row["agency_id"], row["region_code"]
        if existing:
            db.execute(
                delete(CreditProposal).where(
                    one_of(db, CreditProposal.id, [p.id for p in existing.values()]), CreditProposal.state == PROPOSED
                )
            )
            for gone in existing.values():
                db.expunge(gone)
        if added:
            db.execute(
                insert(CreditProposal),
                [
                    {
                        "entity_id": r["entity_id"],
                        "agency_id": r["agency_id"],
                        "region_code": r["region_code"],
                        "current_class": r["current"],
                        "proposed_class": r["proposed"],
                        "points": r["points"],
                        "reasons": json.loads(r["reasons"]),
                        "rule_version": rules.version,
                        "evaluated_on": as_of,
                        "state": PROPOSED,
                        "decision_note": "",
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for r in added
                ],
            )
        db.flush()
    except (IntegrityError, StaleDataError) as exc:  # another run wrote the same entities meanwhile
        raise Conflict(N_("Another credit evaluation ran at the same time. Run it again.")) from exc
    changes = wanted.group_by(pl.col("current").fill_null("—"), "proposed").len().sort("current", "proposed")
    summary = {
        "as_of": as_of.isoformat(),
        "rule_version": rules.version,
        "evaluated": frame.filter(pl.col("status") == "active").height,
        "proposals": len(rows),
        "new": len(added),
        "replaced": len(replaced),
        "unchanged": kept,
        "withdrawn": len(existing),
        "changes": {f"{c}→{p}": n for c, p, n in changes.iter_rows()},
    }
    audit.record(
        db,
        actor=actor,
        action="credit.evaluate",
        object_type=CreditProposal.__tablename__,
        payload=summary,
        detail=summary,
    )
    return summary


# --------------------------------------------------------------------------- reading and deciding


def may_decide(actor: User | None, agency_id: int | None) -> bool:
    """A leader or agency administrator of the entity's own agency decides its credit class."""
    return actor is not None and actor.has_role(*DECIDERS) and agency_id is not None and actor.agency_id == agency_id


def proposals(
    db: Session, *, actor: User, state: str = PROPOSED, limit: int = 200, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Proposals of entities the actor may see: open ones lowest points first, decided ones latest first."""
    if state not in (PROPOSED, ACCEPTED, REJECTED):
        raise Invalid("state", N_("Unknown value for {name}: {value}"), name="state", value=state)
    where = [CreditProposal.state == state, visible(Entity, actor)]
    order = (
        (CreditProposal.points, CreditProposal.id)
        if state == PROPOSED
        else (CreditProposal.decided_at.desc(), CreditProposal.id.desc())
    )
    stmt = (
        select(CreditProposal, Entity.name, Entity.uscc, Entity.agency_id)
        .join(Entity, Entity.id == CreditProposal.entity_id)
        .where(*where)
        .order_by(*order)
        .offset(offset)
        .limit(min(limit, 1000))
    )
    total = (
        db.scalar(
            select(func.count())
            .select_from(CreditProposal)
            .join(Entity, Entity.id == CreditProposal.entity_id)
            .where(*where)
        )
        or 0
    )
    return [
        proposal_dict(p, name=name, uscc=uscc, may=may_decide(actor, agency_id))
        for p, name, uscc, agency_id in db.execute(stmt).all()
    ], total


def proposal_dict(p: CreditProposal, *, name: str, uscc: str | None, may: bool) -> dict[str, Any]:
    return {
        "id": p.id,
        "entity_id": p.entity_id,
        "entity_name": name,
        "uscc": uscc or "",
        "current_class": p.current_class,
        "proposed_class": p.proposed_class,
        "points": p.points,
        "events": (p.reasons or {}).get("events", []),
        "step": (p.reasons or {}).get("step", ""),
        "reason_text": reason_text(p),
        "rule_version": p.rule_version,
        "evaluated_on": p.evaluated_on,
        "state": p.state,
        "decided_by": p.decided_by,
        "decided_at": p.decided_at,
        "decision_note": p.decision_note,
        "version": p.version,
        "may_decide": may,
    }


def get_proposal(db: Session, *, proposal_id: int, actor: User) -> tuple[CreditProposal, Entity]:
    proposal = db.get(CreditProposal, proposal_id)
    if proposal is None:
        raise NotFound()
    entity = db.get(Entity, proposal.entity_id)
    if entity is None:
        raise NotFound()
    ensure_visible(entity, actor)
    return proposal, entity


def decide(
    db: Session, *, proposal_id: int, accept: bool, note: str = "", version: int | None, actor: User
) -> CreditProposal:
    """Accept (the class changes, the history keeps the reasons, source ``credit_feedback``) or reject
    with a reason. A stale form (``version``) or a class changed since the evaluation is a 409."""
    proposal, entity = get_proposal(db, proposal_id=proposal_id, actor=actor)
    check_version(proposal, version)
    action = "accept" if accept else "reject"
    if proposal.state != PROPOSED:
        raise IllegalTransition(action=action, state=proposal.state, allowed=[])
    if not may_decide(actor, entity.agency_id):
        raise Forbidden(N_("Only a leader or administrator of the entity's agency decides its credit class."))
    note = note.strip()
    if not accept and not note:
        raise Invalid("note", N_("Give the reason for rejecting the proposal."))
    if entity.credit_class != proposal.current_class:
        raise Conflict(N_("The entity's credit class changed after this proposal was made. Evaluate again."))
    proposal.state = ACCEPTED if accept else REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_note = actor.id, utcnow(), note
    if accept:
        entities.set_credit(
            db,
            entity=entity,
            value=proposal.proposed_class,
            on=today_shanghai(),
            source=SOURCE,
            reason=reason_text(proposal),
            actor=actor,
        )
    try:
        db.flush()
    except StaleDataError as exc:
        raise Conflict() from exc
    detail = {
        "entity_id": entity.id,
        "from": proposal.current_class,
        "to": proposal.proposed_class,
        "points": proposal.points,
        "rule_version": proposal.rule_version,
        "note": note,
    }
    audit.record(
        db,
        actor=actor,
        action=f"credit.{action}",
        object_type=CreditProposal.__tablename__,
        object_id=proposal.id,
        payload={**detail, "reasons": proposal.reasons},
        detail=detail,
    )
    return proposal


__all__ = [
    "COMPLIANT_HEADERS",
    "PUNISHMENT_HEADERS",
    "compliant",
    "decide",
    "evaluate",
    "export",
    "joint_punishment",
    "proposals",
    "reason_text",
]
