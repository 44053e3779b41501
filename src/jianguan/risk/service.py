"""Risk scores: the rule sets, scoring the registry (whole or a few entities), explanations, incidents.

A score run writes a score row only for entities whose score or level moved, and a level change
writes the entity's risk history (what the draw and the frequency schedule read) in bulk, with one
audit record per run naming how many changed and the hash of the change list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import visible
from jianguan.core.bulkload import load_frame, one_of, select_frame
from jianguan.core.errors import Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.db import utcnow
from jianguan.entities import codes
from jianguan.entities import service as entities
from jianguan.entities.models import Entity, RiskHistory
from jianguan.risk import indicators, scoring
from jianguan.risk.models import Incident, RiskScore, ScoreRuleSet

SOURCE = "risk_score"  # the risk history's source for a level set by the score
MOVED = 0.5  # a score that moved less than this is not a new history row
INCIDENT_KINDS = ("major_accident", "serious_environmental", "data_breach", "other")
SEVERITIES = ("major", "serious", "general")
Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------- rule sets


def validate_rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    """Weights add up to 100, red above yellow, every indicator with points that are 0–100."""
    indicators_ = rules.get("indicators")
    if not isinstance(indicators_, dict) or not indicators_:
        raise Invalid("indicators", N_("A score rule set needs its indicators."))
    missing = sorted({*indicators.COUNTED, "credit", "scale", "industry"} - set(indicators_))
    if missing:
        raise Invalid("indicators", N_("Indicators missing: {codes}."), codes=", ".join(missing))
    total = 0.0
    for code, spec in indicators_.items():
        where = f"indicators.{code}"
        weight = spec.get("weight")
        if not isinstance(weight, int | float) or weight < 0:
            raise Invalid(f"{where}.weight", N_("{name} must be a number, 0 or more."), name=f"{where}.weight")
        total += float(weight)
        if "categories" in spec:
            values = list(spec["categories"].values())
        elif isinstance(spec.get("scale"), list) and len(spec["scale"]) >= 2:
            xs = [p[0] for p in spec["scale"]]
            if xs != sorted(set(xs)):
                raise Invalid(f"{where}.scale", N_("{name}: the values must rise from pair to pair."),
                              name=f"{where}.scale")
            values = [p[1] for p in spec["scale"]]
        else:
            raise Invalid(where, N_("{name} needs categories or a scale of at least two pairs."), name=where)
        if any(not isinstance(v, int | float) or not 0 <= v <= 100 for v in values):
            raise Invalid(where, N_("{name}: points are between 0 and 100."), name=where)
    if abs(total - 100.0) > 1e-9:
        raise Invalid("indicators", N_("The weights add up to {total}, not 100."), total=f"{total:g}")
    thresholds = rules.get("thresholds", {})
    red, yellow = thresholds.get("red"), thresholds.get("yellow")
    if not isinstance(red, int | float) or not isinstance(yellow, int | float) or not 0 < yellow < red <= 100:
        raise Invalid("thresholds", N_("Thresholds need 0 < yellow < red ≤ 100."))
    return dict(rules)


def load_rule_sets(db: Session) -> int:
    """Load shipped versions not yet in the database; an existing version is never edited."""
    added = 0
    for data in scoring.shipped_rule_sets():
        if db.scalar(select(ScoreRuleSet.id).where(ScoreRuleSet.code == data["code"],
                                                   ScoreRuleSet.number == data["number"])) is not None:
            continue
        rules = validate_rules({k: v for k, v in data.items()
                                if k not in ("code", "number", "name", "basis", "effective_from", "effective_to")})
        db.add(ScoreRuleSet(code=data["code"], number=data["number"], name=data["name"], basis=data.get("basis", ""),
                            effective_from=data["effective_from"], effective_to=data.get("effective_to"), rules=rules))
        added += 1
    db.flush()
    return added


def rule_set(db: Session, *, on: dt.date | None = None) -> ScoreRuleSet:
    """The version in force on a day (the latest number among those in force)."""
    on = on or today_shanghai()
    found = db.scalar(select(ScoreRuleSet).where(ScoreRuleSet.effective_from <= on,
                                                 (ScoreRuleSet.effective_to.is_(None))
                                                 | (ScoreRuleSet.effective_to >= on))
                      .order_by(ScoreRuleSet.number.desc()).limit(1))
    if found is None:
        raise NotFound(N_("No risk score rule set is in force on {day}."), day=on.isoformat())
    return found


# --------------------------------------------------------------------------- scoring


def _latest(db: Session, entity_ids: Sequence[int] | None) -> pl.DataFrame:
    stmt = select(RiskScore.entity_id, RiskScore.score, RiskScore.level).where(RiskScore.current)
    if entity_ids is not None:
        stmt = stmt.where(one_of(db, RiskScore.entity_id, list(entity_ids)))
    return select_frame(db, stmt, {"entity_id": pl.Int64, "old_score": pl.Float64, "old_score_level": pl.Utf8})


def _values_json(frame: pl.DataFrame, codes: list[str]) -> pl.Series:
    """Each row's non-zero indicator values as a JSON object text (what ``RiskScore.values`` keeps)."""
    fields = [pl.when(pl.col(c).cast(pl.Utf8).fill_null("").is_in(["", "0.0", "0"])).then(None)
              .otherwise(pl.col(c)).alias(c) for c in codes]
    return frame.select(pl.struct(fields).struct.json_encode().alias("values")).to_series().str.replace_all(
        r'"[a-z_]+":null,?', "").str.replace(",}", "}", literal=True)


def score(db: Session, *, as_of: dt.date | None = None, entity_ids: Sequence[int] | None = None,
          actor: User | None, progress: Progress | None = None) -> dict[str, Any]:
    """Score every active entity (or only these): new score rows where moved, levels into the history."""
    as_of = as_of or today_shanghai()
    ruleset = rule_set(db, on=as_of)
    rules = ruleset.rules
    say = progress or (lambda step, done, total: None)
    say("indicators", 0, 4)
    features = indicators.gather(db, as_of=as_of, rules=rules, entity_ids=entity_ids)
    say("score", 1, 4)
    scored = scoring.points(features, rules).collect()
    old = _latest(db, entity_ids)
    which = Entity.status == "active" if entity_ids is None else one_of(db, Entity.id, list(entity_ids))
    current = select_frame(db, select(Entity.id, Entity.risk_level).where(which),
                           {"entity_id": pl.Int64, "old_level": pl.Utf8})
    scored = scored.join(old, on="entity_id", how="left").join(current, on="entity_id", how="left")
    moved = scored.filter(pl.col("old_score").is_null() | ((pl.col("score") - pl.col("old_score")).abs() >= MOVED)
                          | (pl.col("level") != pl.col("old_score_level")))
    say("write", 2, 4)
    codes = scoring.indicator_codes(rules)
    now = utcnow()
    if moved.height:
        db.execute(update(RiskScore).where(RiskScore.current, one_of(db, RiskScore.entity_id,
                                                                     moved["entity_id"].to_list()))
                   .values(current=False))
        rows = moved.select(
            "entity_id", pl.lit(now).alias("scored_at"), pl.col("score").round(2).alias("score"), "level",
            pl.lit(ruleset.id).alias("rule_set_id"), _values_json(moved, codes).alias("indicator_values"),
            pl.col("incident_id").alias("incident_id"), pl.lit(True).alias("current"))
        load_frame(db, RiskScore.__table__, rows)
    changed = scored.filter(pl.col("level") != pl.col("old_level").fill_null(""))
    say("levels", 3, 4)
    _write_levels(db, changed, as_of=as_of, actor=actor)
    summary = {"as_of": as_of.isoformat(), "rule_set": f"{ruleset.code}-{ruleset.number}", "scored": scored.height,
               "new_rows": moved.height, "level_changes": changed.height,
               "levels": {lv: int(n) for lv, n in scored.group_by("level").len().iter_rows()}}
    say("done", 4, 4)
    return summary


def _write_levels(db: Session, changed: pl.DataFrame, *, as_of: dt.date, actor: User | None) -> None:
    """Close the open risk-history rows of the changed entities, open new ones, set the current level."""
    if not changed.height:
        return
    ids = changed["entity_id"].to_list()
    table = RiskHistory.__table__
    db.execute(update(RiskHistory).where(RiskHistory.valid_to.is_(None), one_of(db, RiskHistory.entity_id, ids))
               .values(valid_to=as_of))
    reasons = changed.select(
        "entity_id", pl.col("level").alias("value"), pl.lit(as_of).alias("valid_from"),
        pl.lit(None, dtype=pl.Date).alias("valid_to"), pl.lit(SOURCE).alias("source"),
        pl.format("风险评分 {} 分", pl.col("score").round(2)).alias("reason"),
        pl.lit(actor.id if actor else None, dtype=pl.Int64).alias("actor_id"), pl.lit(utcnow()).alias("created_at"))
    load_frame(db, table, reasons)
    for level, part in changed.group_by("level"):
        db.execute(update(Entity).where(one_of(db, Entity.id, part["entity_id"].to_list()))
                   .values(risk_level=level[0]))
    listing = "\n".join(f"{e},{o or ''},{n}" for e, o, n in changed.select("entity_id", "old_level", "level")
                        .sort("entity_id").iter_rows())
    audit.record(db, actor=actor, action="risk.levels", object_type="risk_score", object_id=None,
                 payload={"changed": changed.height, "as_of": as_of.isoformat(),
                          "sha256": hashlib.sha256(listing.encode()).hexdigest()},
                 detail={"changed": changed.height, "as_of": as_of.isoformat()})
    db.expire_all()


# --------------------------------------------------------------------------- reading scores


def latest(db: Session, *, entity_id: int) -> RiskScore | None:
    return db.scalar(select(RiskScore).where(RiskScore.entity_id == entity_id, RiskScore.current).limit(1))


def highest(db: Session, *, actor: User, level: str = "", limit: int = 50) -> list[tuple[RiskScore, Entity]]:
    """The highest current scores among the entities the actor sees (the officer's watch list)."""
    stmt = (select(RiskScore, Entity).join(Entity, Entity.id == RiskScore.entity_id)
            .where(RiskScore.current, Entity.status == "active", visible(Entity, actor))
            .order_by(RiskScore.score.desc(), RiskScore.entity_id).limit(limit))
    if level:
        stmt = stmt.where(RiskScore.level == level)
    return [(s, e) for s, e in db.execute(stmt)]


def level_counts(db: Session, *, actor: User) -> dict[str, int]:
    stmt = (select(Entity.risk_level, func.count()).where(Entity.status == "active", visible(Entity, actor))
            .group_by(Entity.risk_level))
    return {str(level or ""): int(n) for level, n in db.execute(stmt)}


def history(db: Session, *, entity_id: int, limit: int = 50) -> list[RiskScore]:
    return list(db.scalars(select(RiskScore).where(RiskScore.entity_id == entity_id)
                           .order_by(RiskScore.id.desc()).limit(limit)))


def explain(db: Session, *, entity: Entity, actor: User | None) -> dict[str, Any]:
    """The entity's current score, level and each indicator's part, top reasons first, in Chinese."""
    row = latest(db, entity_id=entity.id)
    if row is None:
        return {"uscc": entity.uscc, "name": entity.name, "scored": False}
    ruleset = db.get(ScoreRuleSet, row.rule_set_id)
    assert ruleset is not None
    parts = scoring.explain(row.indicator_values, ruleset.rules)
    incident = db.get(Incident, row.incident_id) if row.incident_id else None
    scales = codes.labels(db, "enterprise_scale")

    def shown(part: scoring.Contribution) -> str:
        if part.code == "scale":
            return scales.get(str(part.value), str(part.value) or "—")
        return f"{part.value:g}" if isinstance(part.value, float | int) else str(part.value or "—")

    reasons = [f"{p.name}：{shown(p)}（{p.contribution:g}分）" for p in parts if p.contribution > 0][:3]
    if incident is not None:
        reasons.insert(0, f"{incident.occurred_on.isoformat()} 发生{_incident_label(incident.kind)}，"
                          f"{incident.red_until.isoformat() if incident.red_until else ''}前直接列为红色")
    return {
        "uscc": entity.uscc, "name": entity.name, "scored": True, "score": str(row.score), "level": row.level,
        "scored_at": row.scored_at.isoformat(), "rule_set": f"{ruleset.code}-{ruleset.number}",
        "thresholds": ruleset.rules["thresholds"], "incident": incident.id if incident else None,
        "reasons": reasons,
        "indicators": [{"code": p.code, "name": p.name, "value": p.value, "shown": shown(p), "points": p.points,
                        "weight": p.weight, "contribution": p.contribution} for p in parts],
    }


INCIDENT_LABELS = {"major_accident": "重大事故", "serious_environmental": "严重环境违法",
                   "data_breach": "数据泄露", "other": "其他重大事件"}


def _incident_label(kind: str) -> str:
    return INCIDENT_LABELS.get(kind, kind)


# --------------------------------------------------------------------------- incidents


def require_recorder(actor: User | None) -> User:
    if actor is None or not actor.has_role(Role.officer, Role.leader, Role.agency_admin, Role.system_admin):
        raise Forbidden(N_("Only officers, leaders and administrators record incidents."))
    return actor


def record_incident(db: Session, *, entity: Entity, kind: str, severity: str, occurred_on: dt.date,
                    source: str = "", description: str = "", actor: User | None) -> Incident:
    """Register an incident; a major or serious one makes the entity red at once, for the rule set's period."""
    actor = require_recorder(actor)
    problems: list[Invalid] = []
    if kind not in INCIDENT_KINDS:
        problems.append(Invalid("kind", N_("Unknown incident kind: {value}"), value=kind))
    if severity not in SEVERITIES:
        problems.append(Invalid("severity", N_("Unknown severity: {value}"), value=severity))
    if occurred_on > today_shanghai():
        problems.append(Invalid("occurred_on", N_("{name} cannot be in the future."), name="occurred_on"))
    if problems:
        raise Invalid.all(problems)
    rules = rule_set(db, on=occurred_on).rules
    incident = Incident(entity_id=entity.id, region_code=entity.region_code, kind=kind, severity=severity,
                        occurred_on=occurred_on, source=source, description=description, recorded_by=actor.id,
                        red_until=scoring.red_until(rules, kind=kind, severity=severity, occurred_on=occurred_on))
    db.add(incident)
    db.flush()
    audit.record(db, actor=actor, action="risk.incident", object_type="incident", object_id=incident.id,
                 payload={"entity": entity.id, "kind": kind, "severity": severity, "on": occurred_on.isoformat()},
                 detail={"entity": entity.uscc or entity.name, "kind": kind, "severity": severity})
    score(db, entity_ids=[entity.id], actor=actor)
    return incident


def withdraw_incident(db: Session, *, incident_id: int, reason: str, actor: User | None) -> Incident:
    actor = require_recorder(actor)
    incident = db.get(Incident, incident_id)
    if incident is None:
        raise NotFound(N_("No such incident."))
    entities.get_entity(db, entity_id=incident.entity_id, actor=actor)  # scoped like the entity
    if not reason.strip():
        raise Invalid("reason", N_("Give a reason."))
    incident.withdrawn_reason = reason.strip()
    db.flush()
    audit.record(db, actor=actor, action="risk.incident_withdrawn", object_type="incident", object_id=incident.id,
                 payload={"reason": incident.withdrawn_reason}, detail={"reason": incident.withdrawn_reason})
    score(db, entity_ids=[incident.entity_id], actor=actor)
    return incident


def entity_by_uscc(db: Session, *, uscc_code: str, actor: User | None) -> Entity:
    entity = entities.find(db, uscc_code=uscc_code.strip().upper())
    if entity is None:
        raise NotFound(N_("No entity with USCC {code}."), code=uscc_code)
    return entities.get_entity(db, entity_id=entity.id, actor=actor)


def incidents(db: Session, *, actor: User, entity_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The register of the entities the actor sees, latest first."""
    stmt = (select(Incident, Entity.name, Entity.uscc).join(Entity, Entity.id == Incident.entity_id)
            .where(visible(Entity, actor))
            .order_by(Incident.occurred_on.desc(), Incident.id.desc()).limit(limit))
    if entity_id is not None:
        stmt = stmt.where(Incident.entity_id == entity_id)
    return [{"id": i.id, "entity_id": i.entity_id, "entity_name": name, "uscc": uscc, "kind": i.kind,
             "kind_label": _incident_label(i.kind), "severity": i.severity, "occurred_on": i.occurred_on,
             "red_until": i.red_until, "source": i.source, "description": i.description,
             "withdrawn_reason": i.withdrawn_reason} for i, name, uscc in db.execute(stmt)]


def touched_since(db: Session, *, since: dt.datetime) -> list[int]:
    """Entities with a new finding, complaint, warning, incident, case, tag, licence, credit class, feed or
    reading batch since ``since``: the incremental re-score's work list. (Not ``entities.updated_at``: the
    score's own level changes touch it; other registry edits wait for the nightly run.)"""
    from jianguan.cases.models import Case
    from jianguan.collab.models import Complaint
    from jianguan.entities.models import CreditHistory, EntityLicence, EntityTag
    from jianguan.imports.models import ImportBatch
    from jianguan.inspections.models import Finding
    from jianguan.risk.models import FeedRecord, Reading, Warning

    batches = select(ImportBatch.id).where(ImportBatch.created_at >= since)
    parts = [
        select(Finding.entity_id).where(Finding.created_at >= since),
        select(Complaint.entity_id).where(Complaint.created_at >= since, Complaint.entity_id.is_not(None)),
        select(Warning.entity_id).where(Warning.updated_at >= since),
        select(Incident.entity_id).where(Incident.updated_at >= since),
        select(Case.entity_id).where(Case.updated_at >= since, Case.entity_id.is_not(None)),
        select(EntityTag.entity_id).where(EntityTag.created_at >= since),
        select(EntityLicence.entity_id).where(EntityLicence.updated_at >= since),
        select(CreditHistory.entity_id).where(CreditHistory.created_at >= since),
        select(FeedRecord.entity_id).where(FeedRecord.batch_id.in_(batches)),
        select(Reading.entity_id).where(Reading.batch_id.in_(batches)),
    ]
    ids: set[int] = set()
    for part in parts:
        ids.update(i for i in db.scalars(part.distinct()) if i is not None)
    return sorted(ids)


def rescore_touched(db: Session, *, actor: User | None = None) -> dict[str, Any]:
    """Re-score what changed since the last good run of either scoring job (with a minute's overlap), or in
    the last day on a system that has not run them yet."""
    from jianguan.notify.models import JobRun

    last = db.scalar(select(func.max(JobRun.started_at)).where(JobRun.name.in_(("risk.score", "risk.rescore")),
                                                               JobRun.status == "ok"))
    since = last - dt.timedelta(minutes=1) if last else utcnow() - dt.timedelta(days=1)
    ids = touched_since(db, since=since)
    if not ids:
        return {"touched": 0}
    return {"touched": len(ids), **score(db, entity_ids=ids, actor=actor)}
