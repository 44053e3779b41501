"""Double-random draws of a plan: build the candidate pool from the registry, run ``sampling.run``,
keep the evidence, and verify a draw later by re-running it from its stored snapshot.

The pool snapshot (candidates with their stratum, forced-inclusion and exclusion reasons; the
officers and experts with their qualifications and loads; the recusals of the drawn entities) is
written as canonical text, its SHA-256 recorded on the draw and in the audit chain, and the text
kept gzipped in the evidence store. Nothing is written when the draw cannot keep every rule.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from jianguan.audit import evidence
from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import region_prefix
from jianguan.core.bulkload import load_frame, one_of, select_frame
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.db import utcnow
from jianguan.entities.models import Entity, EntityTag, RelatedParty
from jianguan.entities.search import _industry_clause
from jianguan.inspections import rules, sampling, service
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import Draw, DrawAssignment, DrawEntity, Expert, InspectionPlan, SamplingRuleSet
from jianguan.officers import roster
from jianguan.officers.models import Agency, Officer, OfficerConflict

CHUNK = 10_000  # ids per IN (…) list: well under SQLite's variable limit
SNAPSHOT_MAX_BYTES = 4 << 30
OPEN_PLAN_STATES = (wf.APPROVED, wf.IN_PROGRESS)


# --------------------------------------------------------------------------- the pool


def _chunks(values: Sequence[int]) -> Iterator[list[int]]:
    for i in range(0, len(values), CHUNK):
        yield list(values[i:i + CHUNK])


def _scope_clauses(db: Session, plan: InspectionPlan) -> list[ColumnElement[bool]]:
    scope = plan.scope or {}
    region = str(scope.get("region_code") or plan.region_code)
    prefix = region_prefix(region)
    column: Any = Entity.region_code
    if len(prefix) == 2 and db.get_bind().dialect.name == "sqlite":
        column = column.concat("")  # a whole province: SQLite scans the table faster than it walks the index
    clauses: list[ColumnElement[bool]] = [column == region if len(prefix) == 6 else
                                          column.between(prefix.ljust(6, "0"), prefix.ljust(6, "9"))]
    if scope.get("industry_code"):
        clauses.append(_industry_clause(scope["industry_code"]))
    kinds = scope.get("kinds") or sorted({k for _, v in service.plan_items(db, plan) if v is not None
                                          for k in v.object_kinds})
    if kinds:
        clauses.append(Entity.kind.in_(kinds))
    for key, column in (("scales", Entity.scale), ("credit_classes", Entity.credit_class),
                        ("risk_levels", Entity.risk_level)):
        if scope.get(key):
            clauses.append(column.in_(scope[key]))
    if scope.get("tags"):
        clauses.append(Entity.id.in_(select(EntityTag.entity_id).where(
            EntityTag.tag.in_(scope["tags"]), EntityTag.until.is_(None))))
    return clauses


def _recent(db: Session, plan: InspectionPlan, on: dt.date, days: int) -> set[int]:
    """Entities drawn for one of the plan's items by another plan within ``days`` before ``on``."""
    if days <= 0:
        return set()
    since = dt.datetime.combine(on - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
    items = set(plan.item_codes)
    draw_ids = [d.id for d in db.scalars(select(Draw).join(InspectionPlan).where(
        Draw.voided_at.is_(None), Draw.drawn_at >= since, Draw.plan_id != plan.id,
        InspectionPlan.state.not_in((wf.CANCELLED, wf.REJECTED))))
        if items & set(d.plan.item_codes)]
    if not draw_ids:
        return set()
    return set(db.scalars(select(DrawEntity.entity_id).where(DrawEntity.draw_id.in_(draw_ids))))


def _recognised(db: Session, plan: InspectionPlan, on: dt.date, frame: pl.DataFrame) -> set[int]:
    """Entities another department has inspected for every item of the plan, with results still
    recognised (结果互认): the draw leaves them out instead of sending a second visit. Named entities
    (a complaint, a targeted plan) are visited regardless — ``forced`` wins over this below."""
    from jianguan.collab import recognition

    if frame.height == 0:
        return set()
    return set(recognition.covered(db, item_codes=plan.item_codes, on=on, agency_id=plan.agency_id))


def _candidates(db: Session, plan: InspectionPlan, rule: dict[str, Any],
                on: dt.date) -> tuple[pl.DataFrame, int | None]:
    """Every candidate with stratum, forced and excluded reasons (sampling.ENTITY_SCHEMA), and the learned
    model's number when the plan grades the strata by it rather than by the risk score."""
    columns = (Entity.id, Entity.uscc, Entity.region_code, Entity.status, Entity.credit_class, Entity.risk_level)
    named = list(plan.target_entity_ids or [])
    if plan.kind in service.NAMED_KINDS:
        where: ColumnElement[bool] = Entity.id.in_(named or [-1])
    else:
        where = and_(*_scope_clauses(db, plan))
        if named:
            where = or_(where, Entity.id.in_(named))
    frame = select_frame(db, select(*columns).where(where), {"entity_id": pl.Int64, "uscc": pl.Utf8, "region": pl.Utf8,
                                                       "status": pl.Utf8, "credit": pl.Utf8, "risk": pl.Utf8})
    model_number = None
    if plan.weight_source == "model":  # refused unless the model beat the score on held-out inspections
        from jianguan.risk import learning

        frame, model_number = learning.bands(db, frame, as_of=on)
    force_tags = list(rule["force_include_tags"])
    tagged: dict[int, str] = {}
    if force_tags:
        for entity_id, tag in db.execute(select(EntityTag.entity_id, EntityTag.tag).where(
                EntityTag.tag.in_(force_tags), EntityTag.until.is_(None))):
            if entity_id not in tagged or force_tags.index(tag) < force_tags.index(tagged[entity_id]):
                tagged[entity_id] = tag
    named_reason = "complaint" if plan.kind == "complaint" else "named"
    forced = {**tagged, **{i: named_reason for i in named}}
    exempt = plan.kind in rule["exempt_plan_kinds"]
    recent = _recent(db, plan, on, int(rule["recent_days"]))
    recognised = _recognised(db, plan, on, frame)
    forced_frame = pl.DataFrame({"entity_id": list(forced), "forced_reason": list(forced.values())},
                                schema={"entity_id": pl.Int64, "forced_reason": pl.Utf8})
    recent_frame = pl.DataFrame({"entity_id": sorted(recent), "recent": [True] * len(recent)},
                                schema={"entity_id": pl.Int64, "recent": pl.Boolean})
    recognised_frame = pl.DataFrame({"entity_id": sorted(recognised), "recognised": [True] * len(recognised)},
                                    schema={"entity_id": pl.Int64, "recognised": pl.Boolean})
    credit_exempt = pl.col("credit").is_in(rule["exempt_credit_classes"]) if exempt else pl.lit(False)
    return (
        frame.join(forced_frame, on="entity_id", how="left").join(recent_frame, on="entity_id", how="left")
        .join(recognised_frame, on="entity_id", how="left")
        .with_columns(
            uscc=pl.col("uscc").fill_null(""),
            stratum=pl.col("risk").fill_null("-") + "/" + pl.col("credit").fill_null("-"),
            forced=pl.col("forced_reason").fill_null(""),
            excluded=pl.when(pl.col("status").is_in(rule["exclude_statuses"])).then(pl.lit("closed"))
            .when(pl.col("forced_reason").is_not_null()).then(pl.lit(""))
            .when(credit_exempt).then(pl.lit("credit_exempt"))
            .when(pl.col("recent").fill_null(False)).then(pl.lit("recent"))
            .when(pl.col("recognised").fill_null(False)).then(pl.lit("recognised"))
            .otherwise(pl.lit("")))
        .with_columns(forced=pl.when(pl.col("excluded") != "").then(pl.lit("")).otherwise(pl.col("forced")))
        .select(list(sampling.ENTITY_SCHEMA))
    ), model_number


def existing_loads(db: Session, officer_ids: Iterable[int] | None = None) -> Counter[int]:
    """Open assignments per officer: drawn in a valid draw of a plan still open."""
    stmt = (select(DrawAssignment.officer_id, func.count()).join(Draw, Draw.id == DrawAssignment.draw_id)
            .join(InspectionPlan, InspectionPlan.id == Draw.plan_id)
            .where(Draw.voided_at.is_(None), InspectionPlan.state.in_(OPEN_PLAN_STATES),
                   DrawAssignment.officer_id.is_not(None))
            .group_by(DrawAssignment.officer_id))
    if officer_ids is not None:
        stmt = stmt.where(DrawAssignment.officer_id.in_(list(officer_ids)))
    return Counter({int(o): int(n) for o, n in db.execute(stmt) if o is not None})


def _workload_source(db: Session, officer_id: int, since: dt.date | None) -> int:
    return existing_loads(db, [officer_id]).get(officer_id, 0)


if _workload_source not in roster.WORKLOAD_SOURCES:
    roster.WORKLOAD_SOURCES.append(_workload_source)


def taking_part(db: Session, plan: InspectionPlan) -> list[int]:
    """Agencies whose officers may be drawn: the plan's agency and those under it, and the agencies
    named on the plan (joint plans) with theirs."""
    named = [a for a in (db.get(Agency, i) for i in dict.fromkeys([plan.agency_id, *plan.agency_ids])) if a]
    clauses = [Agency.path.like(f"{a.path}%") for a in named if a.path and a.path != "/"]
    ids = set(db.scalars(select(Agency.id).where(or_(*clauses)))) if clauses else set()
    return sorted(ids | {a.id for a in named})


def _officers(db: Session, plan: InspectionPlan, domains: Sequence[str], on: dt.date) -> list[sampling.Person]:
    qualified: dict[int, set[str]] = defaultdict(set)
    regions: dict[int, str] = {}
    agencies = taking_part(db, plan)
    for domain in domains:
        for officer in roster.qualified_officers(db, domain=domain, on=on, agency_ids=agencies):
            qualified[officer.id].add(domain)
            regions[officer.id] = officer.region_code
    loads = existing_loads(db)
    return [sampling.Person(i, regions[i], tuple(sorted(qualified[i])), loads.get(i, 0))
            for i in sorted(qualified)]


def _experts(db: Session, plan: InspectionPlan, domains: Sequence[str]) -> list[sampling.Person]:
    if not plan.expert_count:
        return []
    wanted = set(domains)
    rows = db.scalars(select(Expert).where(Expert.is_active, or_(
        Expert.agency_id.is_(None), Expert.agency_id.in_(taking_part(db, plan))))).all()
    loads = Counter(db.scalars(select(DrawAssignment.expert_id).join(Draw, Draw.id == DrawAssignment.draw_id)
                               .join(InspectionPlan, InspectionPlan.id == Draw.plan_id)
                               .where(Draw.voided_at.is_(None), InspectionPlan.state.in_(OPEN_PLAN_STATES),
                                      DrawAssignment.expert_id.is_not(None))))
    return [sampling.Person(e.id, e.region_code, tuple(sorted(set(e.domains) & wanted)), loads.get(e.id, 0))
            for e in rows if set(e.domains) & wanted]


def _recusals(db: Session, selected: pl.DataFrame, officer_ids: set[int], previous: bool) -> dict[int, set[int]]:
    """Officers who must stand aside for each drawn entity (回避, 行政处罚法 Art. 43): a recorded conflict,
    a related party who is the officer, and — when the rules say so — the officers of its last draw.
    Each is one query over all drawn entities (an array parameter, not a list of 100,000 literals)."""
    out: dict[int, set[int]] = defaultdict(set)
    ids = selected["entity_id"].to_list()
    if not ids:
        return {}
    by_uscc = {u: i for u, i in selected.select("uscc", "entity_id").iter_rows() if u}
    for officer_id, entity_id in db.execute(select(OfficerConflict.officer_id, OfficerConflict.entity_id)
                                            .where(one_of(db, OfficerConflict.entity_id, ids))):
        if entity_id is not None:
            out[entity_id].add(officer_id)
    if by_uscc:
        for officer_id, uscc in db.execute(select(OfficerConflict.officer_id, OfficerConflict.entity_uscc)
                                           .where(one_of(db, OfficerConflict.entity_uscc, list(by_uscc)))):
            out[by_uscc[uscc]].add(officer_id)
    hashes = {h: o for o, h in db.execute(select(Officer.id, Officer.id_number_hash).where(
        Officer.id_number_hash.is_not(None)))}
    if hashes:
        for entity_id, h in db.execute(select(RelatedParty.entity_id, RelatedParty.id_number_hash).where(
                one_of(db, RelatedParty.entity_id, ids), RelatedParty.id_number_hash.is_not(None))):
            if h in hashes:
                out[entity_id].add(hashes[h])
    if previous:
        last = (select(DrawAssignment.entity_id, func.max(DrawAssignment.draw_id).label("draw_id"))
                .join(Draw, Draw.id == DrawAssignment.draw_id)
                .where(Draw.voided_at.is_(None), one_of(db, DrawAssignment.entity_id, ids),
                       DrawAssignment.officer_id.is_not(None))
                .group_by(DrawAssignment.entity_id).subquery())
        for drawn_id, previous_officer in db.execute(
                select(DrawAssignment.entity_id, DrawAssignment.officer_id)
                .join(last, and_(last.c.entity_id == DrawAssignment.entity_id,
                                 last.c.draw_id == DrawAssignment.draw_id))):
            if previous_officer is not None:
                out[drawn_id].add(previous_officer)
    return {e: {o for o in s if o in officer_ids} for e, s in out.items() if s & officer_ids}


@dataclass
class Prepared:
    pool: sampling.Pool
    params: sampling.Params
    result: sampling.Result
    rule_set_id: int


def params_for(db: Session, plan: InspectionPlan, rule: dict[str, Any]) -> sampling.Params:
    return sampling.Params(
        ratios={s: str(rules.stratum_ratio(rule, s)) for s in rules.all_strata()},
        domains=tuple(service.plan_domains(db, plan)),
        target_ratio=str(plan.ratio) if plan.ratio is not None else None, target_count=plan.count,
        weighted=plan.weighted, officers_per_domain=max(plan.officers_per_domain, int(rule["officers_per_domain"])),
        workload_cap=plan.workload_cap or rule["workload_cap"], expert_count=plan.expert_count,
        expert_min_pool=int(rule["expert_min_pool"]))


def prepare(db: Session, plan: InspectionPlan, *, seed: str, on: dt.date) -> Prepared:
    """Build the pool and run the draw, writing nothing."""
    rule_set = db.get(SamplingRuleSet, plan.rule_set_id)
    assert rule_set is not None
    rule = rules.validate(dict(rule_set.rules))
    candidates, model_number = _candidates(db, plan, rule, on)
    params = replace(params_for(db, plan, rule), model_number=model_number)
    pool = sampling.Pool(candidates, _officers(db, plan, params.domains, on),
                         _experts(db, plan, params.domains))
    selection = sampling.select(pool, params, seed)
    pool.recusals = _recusals(db, selection[0], {p.id for p in pool.officers}, bool(rule["recuse_previous"]))
    return Prepared(pool, params, sampling.run(pool, params, seed, selection), rule_set.id)


# --------------------------------------------------------------------------- drawing


def _shortfall_error(shortfalls: Sequence[sampling.Shortfall]) -> Invalid:
    if shortfalls[0].role == "expert_pool":
        s = shortfalls[0]
        return Invalid("expert_count", N_("The expert pool for {domains} has {available} experts; at least {needed} "
                                          "are required."), domains=s.domain, available=s.available, needed=s.needed)
    regions = Counter((s.region, s.domain) for s in shortfalls)
    worst = ", ".join(f"{r} {d} ×{n}" for (r, d), n in regions.most_common(5))
    error = Invalid("officers", N_("Too few qualified officers for {count} drawn entities (region, domain: {worst}). "
                                   "Nothing was drawn: add officers, raise the workload cap or narrow the plan."),
                    count=len({s.entity_id for s in shortfalls}), worst=worst)
    error.details = [asdict(s) for s in shortfalls[:200]]
    return error


def _inspection_date(plan: InspectionPlan, on: dt.date | None) -> dt.date:
    day = on or max(today_shanghai(), plan.starts_on)
    if not plan.starts_on <= day <= plan.ends_on:
        raise Invalid("inspection_date", N_("The inspection date must lie within the plan's period ({start} – {end})."),
                      start=plan.starts_on.isoformat(), end=plan.ends_on.isoformat())
    return day


def _may_draw(plan: InspectionPlan, actor: User | None) -> None:
    if actor is None:
        return
    if not (actor.is_system_admin or (actor.agency_id == plan.agency_id and actor.has_role(*wf.RUNNERS))):
        raise Forbidden(N_("Only the plan's agency may draw for it."))


def run_draw(db: Session, *, plan_id: int, seed: str | None = None, on: dt.date | None = None,
             actor: User | None, actor_name: str = "") -> Draw:
    """Draw for an approved plan: everything is checked first and nothing is written on a shortfall."""
    plan = service.get_plan(db, plan_id=plan_id, actor=actor)
    _may_draw(plan, actor)
    if plan.state not in wf.DRAWABLE:
        raise Invalid("state", N_("Only an approved plan that has not begun can be drawn."))
    if current_draw(db, plan) is not None:
        raise Conflict(N_("This plan already has a valid draw; void it with a reason before drawing again."))
    seed_source = "public" if seed and seed.strip() else "generated"
    seed = seed.strip() if seed and seed.strip() else secrets.token_hex(8)
    if "\n" in seed:
        raise Invalid("seed", N_("The seed must be one line."))
    day = _inspection_date(plan, on)
    prepared = prepare(db, plan, seed=seed, on=day)
    result = prepared.result
    if result.shortfalls:
        raise _shortfall_error(result.shortfalls)
    text = sampling.pool_text(prepared.pool)
    pool_hash = hashlib.sha256(text.encode()).hexdigest()
    pool_file, _ = evidence.get_storage().put(io.BytesIO(gzip.compress(text.encode(), compresslevel=1, mtime=0)),
                                              max_bytes=SNAPSHOT_MAX_BYTES)
    number = (db.scalar(select(func.max(Draw.number)).where(Draw.plan_id == plan.id)) or 0) + 1
    draw = Draw(plan_id=plan.id, number=number, agency_id=plan.agency_id, region_code=plan.region_code, seed=seed,
                seed_source=seed_source, algorithm=sampling.ALGORITHM, params=prepared.params.to_json(),
                inspection_date=day, rule_set_id=prepared.rule_set_id, pool_hash=pool_hash, pool_file=pool_file,
                pool_size=prepared.pool.entities.height, result_hash=result.hash,
                selected_count=result.selected.height, summary=summary(prepared),
                drawn_by=actor.id if actor else None, drawn_by_name=actor.username if actor else actor_name or "cli",
                drawn_at=utcnow())
    db.add(draw)
    db.flush()
    _write_rows(db, draw, result)
    audit.record(db, actor=actor, action="draw.run", object_type="draw", object_id=draw.id,
                 payload={"plan": plan.code, "seed": seed, "seed_source": seed_source, "algorithm": draw.algorithm,
                          "params": draw.params, "pool_hash": pool_hash, "pool_file": pool_file,
                          "result_hash": result.hash},
                 detail={"plan_id": plan.id, "number": number, "selected": draw.selected_count,
                         "pool_size": draw.pool_size, "pool_hash": pool_hash, "result_hash": result.hash})
    return draw


def _write_rows(db: Session, draw: Draw, result: sampling.Result) -> None:
    """The result rows in bulk (COPY on PostgreSQL): 100,000 drawn entities must not take long."""
    entities = result.selected.select("entity_id", "stratum", "reason", "key").with_row_index("position").with_columns(
        draw_id=pl.lit(draw.id, pl.Int64), position=pl.col("position").cast(pl.Int64))
    load_frame(db, DrawEntity.__table__, entities)
    people = sampling.assignment_frame(result.assignments)
    officer = pl.col("role") == "officer"
    load_frame(db, DrawAssignment.__table__, people.select(
        pl.lit(draw.id, pl.Int64).alias("draw_id"), "entity_id", "role", "domain",
        pl.when(officer).then(pl.col("person_id")).alias("officer_id"),
        pl.when(~officer).then(pl.col("person_id")).alias("expert_id")))


def _severity(stratum: sampling.Stratum) -> tuple[int, str]:
    """Strata in the order people read them: red, yellow, blue, ungraded; credit A → D within."""
    risk, _, credit = stratum.stratum.partition("/")
    return ({"red": 0, "yellow": 1, "blue": 2}.get(risk, 3), credit if credit != "-" else "Z")


def summary(prepared: Prepared) -> dict[str, Any]:
    pool, result = prepared.pool, prepared.result
    entities = pool.entities
    loads = Counter(a.person_id for a in result.assignments if a.role == "officer")
    officers_used = [loads[p.id] for p in pool.officers if loads[p.id]]
    return {
        "strata": [asdict(s) for s in sorted(result.strata, key=_severity) if s.pool],
        "exclusions": dict(Counter(v for v in entities["excluded"].to_list() if v)),
        "forced": dict(Counter(result.selected.filter(pl.col("reason") != "random")["reason"].to_list())),
        "domains": list(prepared.params.domains),
        "officers": {"pool": len(pool.officers), "assigned": len(officers_used),
                     "max_load": max(officers_used, default=0), "min_load": min(officers_used, default=0)},
        "experts": {"pool": len(pool.experts),
                    "assigned": len({a.person_id for a in result.assignments if a.role == "expert"})},
        "recusals": sum(len(v) for v in pool.recusals.values()),
    }


def current_draw(db: Session, plan: InspectionPlan) -> Draw | None:
    return db.scalar(select(Draw).where(Draw.plan_id == plan.id, Draw.voided_at.is_(None))
                     .order_by(Draw.number.desc()).limit(1))


def ensure_drawn(db: Session, plan: InspectionPlan) -> None:
    if current_draw(db, plan) is None:
        raise Invalid("draw", N_("Draw the entities and officers before the plan begins."))


def get_draw(db: Session, *, draw_id: int, actor: User | None) -> Draw:
    draw = db.get(Draw, draw_id)
    if draw is None:
        raise NotFound(N_("No such draw."))
    service.get_plan(db, plan_id=draw.plan_id, actor=actor)  # the plan's visibility (sealed plans too)
    return draw


def draws_of(db: Session, plan: InspectionPlan) -> list[Draw]:
    return list(db.scalars(select(Draw).where(Draw.plan_id == plan.id).order_by(Draw.number)))


def void_draw(db: Session, *, draw_id: int, reason: str, actor: User | None) -> Draw:
    """A draw found wrong is voided with a reason (both stay visible) so the plan can be drawn again."""
    draw = get_draw(db, draw_id=draw_id, actor=actor)
    _may_draw(draw.plan, actor)
    if actor is not None and not (actor.is_system_admin or actor.has_role(*wf.APPROVERS)):
        raise Forbidden(N_("Only a leader may void a draw."))
    if draw.voided_at is not None:
        raise Conflict(N_("This draw is already void."))
    if draw.plan.state != wf.APPROVED:
        raise Invalid("state", N_("A draw can be voided only before the plan begins."))
    if len(reason.strip()) < 2:
        raise Invalid("reason", N_("Give the reason for voiding the draw."))
    draw.voided_at, draw.voided_by, draw.void_reason = utcnow(), actor.id if actor else None, reason.strip()
    db.flush()
    audit.record(db, actor=actor, action="draw.void", object_type="draw", object_id=draw.id,
                 payload={"reason": draw.void_reason}, detail={"plan_id": draw.plan_id, "number": draw.number})
    return draw


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Verification:
    draw_id: int
    identical: bool
    snapshot_intact: bool  # the stored snapshot still hashes to the recorded pool hash
    rerun_matches: bool  # re-running the algorithm gives the recorded result hash
    rows_match: bool  # the stored result rows give the recorded result hash
    pool_hash: str
    result_hash: str
    rerun_hash: str
    rows_hash: str
    algorithm: str
    seed: str


def stored_result_text(db: Session, draw: Draw) -> str:
    selected = select_frame(db, select(DrawEntity.entity_id, DrawEntity.stratum, DrawEntity.reason, DrawEntity.key)
                      .where(DrawEntity.draw_id == draw.id).order_by(DrawEntity.position),
                      {"entity_id": pl.Int64, "stratum": pl.Utf8, "reason": pl.Utf8, "key": pl.Utf8})
    people = select_frame(db, select(DrawAssignment.entity_id, DrawAssignment.role,
                               func.coalesce(DrawAssignment.officer_id, DrawAssignment.expert_id),
                               DrawAssignment.domain)
                    .where(DrawAssignment.draw_id == draw.id).order_by(DrawAssignment.id),
                    {"entity_id": pl.Int64, "role": pl.Utf8, "person_id": pl.Int64, "domain": pl.Utf8})
    return sampling.result_text(selected, people)


def snapshot_text(draw: Draw) -> str:
    with evidence.get_storage().open(draw.pool_file) as handle:
        return gzip.decompress(handle.read()).decode()


def verify(db: Session, *, draw_id: int, actor: User | None) -> Verification:
    """Re-run a draw from its stored snapshot and compare with what was recorded."""
    draw = get_draw(db, draw_id=draw_id, actor=actor)
    if draw.algorithm != sampling.ALGORITHM:
        raise Invalid("algorithm", N_("This draw used algorithm {name}, which this version cannot re-run."),
                      name=draw.algorithm)
    try:
        text = snapshot_text(draw)
    except FileNotFoundError:
        raise NotFound(N_("The pool snapshot of this draw is missing from the evidence store.")) from None
    intact = hashlib.sha256(text.encode()).hexdigest() == draw.pool_hash
    rerun = sampling.run(sampling.parse_pool(text), sampling.Params.from_json(draw.params), draw.seed)
    rows_hash = hashlib.sha256(stored_result_text(db, draw).encode()).hexdigest()
    outcome = Verification(draw.id, intact and rerun.hash == draw.result_hash == rows_hash, intact,
                           rerun.hash == draw.result_hash, rows_hash == draw.result_hash, draw.pool_hash,
                           draw.result_hash, rerun.hash, rows_hash, draw.algorithm, draw.seed)
    audit.record(db, actor=actor, action="draw.verify", object_type="draw", object_id=draw.id,
                 payload=asdict(outcome), detail={"identical": outcome.identical})
    return outcome


# --------------------------------------------------------------------------- results


@dataclass
class Drawn:
    position: int
    entity_id: int
    uscc: str | None
    name: str
    region_code: str
    stratum: str
    reason: str
    officers: list[tuple[int, str, str]]  # (officer id, name, domain)
    experts: list[tuple[int, str, str]]


def results(db: Session, draw: Draw, *, offset: int = 0, limit: int = 50,
            officer_id: int | None = None) -> tuple[list[Drawn], int]:
    """One page of drawn entities with their teams (optionally only those of one officer)."""
    stmt = (select(DrawEntity, Entity).join(Entity, Entity.id == DrawEntity.entity_id)
            .where(DrawEntity.draw_id == draw.id))
    count = select(func.count()).select_from(DrawEntity).where(DrawEntity.draw_id == draw.id)
    if officer_id is not None:
        mine = select(DrawAssignment.entity_id).where(DrawAssignment.draw_id == draw.id,
                                                      DrawAssignment.officer_id == officer_id)
        stmt, count = stmt.where(DrawEntity.entity_id.in_(mine)), count.where(DrawEntity.entity_id.in_(mine))
    rows = db.execute(stmt.order_by(DrawEntity.position).offset(offset).limit(limit)).all()
    ids = [de.entity_id for de, _ in rows]
    teams: dict[int, list[tuple[str, int, str, str]]] = defaultdict(list)
    if ids:
        for a, officer_name, expert_name in db.execute(
                select(DrawAssignment, Officer.name, Expert.name)
                .outerjoin(Officer, Officer.id == DrawAssignment.officer_id)
                .outerjoin(Expert, Expert.id == DrawAssignment.expert_id)
                .where(DrawAssignment.draw_id == draw.id, DrawAssignment.entity_id.in_(ids))
                .order_by(DrawAssignment.id)):
            person = a.officer_id if a.officer_id is not None else a.expert_id
            teams[a.entity_id].append((a.role, int(person or 0), officer_name or expert_name, a.domain))
    out = [Drawn(de.position, e.id, e.uscc, e.name, e.region_code, de.stratum, de.reason,
                 [(i, n, d) for r, i, n, d in teams[e.id] if r == "officer"],
                 [(i, n, d) for r, i, n, d in teams[e.id] if r == "expert"]) for de, e in rows]
    return out, int(db.scalar(count) or 0)
