"""Warnings (预警): raised each day by the rules in force, routed to the agency of the entity's county
and the rule's domain, and disposed through the loop (risk/workflow.py): taken up, verified, turned
into an inspection plan or a case lead, or closed as a false alarm with the reason, then feedback.

Each warning records the rule version that raised it; a repeat for the same rule and entity inside the
rule's dedup window is not raised again. The false-alarm rate per rule is what tells legal staff which
rule to tune.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import visible
from jianguan.core import workflow
from jianguan.core.bulkload import select_frame
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import SHANGHAI, DueDate, WorkCalendar, today_shanghai
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.notify import service as notify
from jianguan.officers.models import Agency
from jianguan.officers.service import staff_of
from jianguan.risk import evaluate, warning_rules
from jianguan.risk import workflow as wf
from jianguan.risk.models import Warning, WarningRule

DISPOSITIONS = ("inspection", "case", "other")


def disposal_due(record: Warning, calendar: WorkCalendar) -> DueDate | None:
    """Verified and disposed within the level's working days of being taken up."""
    if record.state_since is None:
        return None
    days = int(wf.loop_rules()["disposal_working_days"].get(record.level, 10))
    return calendar.add_working_days(record.state_since.astimezone(SHANGHAI).date(), days)


# --------------------------------------------------------------------------- raising


def route(db: Session, *, domain: str, region_code: str) -> Agency | None:
    """The county's agency enforcing the domain, else the city's; None when neither exists."""
    for region in (region_code, region_code[:4] + "00"):
        for agency in db.scalars(select(Agency).where(Agency.region_code == region).order_by(Agency.id)):
            if domain in (agency.domains or []):
                return agency
    return None


def _next_code(db: Session, year: int) -> int:
    last = db.scalar(select(func.max(Warning.code)).where(Warning.code.like(f"YJ{year}%")))
    return int(last[6:]) + 1 if last else 1


def raise_warnings(db: Session, *, as_of: dt.date | None = None, actor: User | None = None) -> dict[str, Any]:
    """Evaluate every rule in force for ``as_of`` and raise what fired and was not raised already."""
    return raise_range(db, first=as_of or today_shanghai(), last=as_of or today_shanghai(), actor=actor)


def raise_range(db: Session, *, first: dt.date, last: dt.date, actor: User | None = None) -> dict[str, Any]:
    """The same for every day from ``first`` to ``last`` in one pass (a worker that was down, or the demo's
    month): each rule's firings, the first in each of its dedup windows, none already raised."""
    active = warning_rules.in_force(db, on=last)
    data = warning_rules.frames(db, first=first, last=last, active=active)
    if first == last:
        fired = evaluate.evaluate(active, as_of=last, **data)
    else:
        f = evaluate.frames(**data)
        parts = [evaluate.first_in_each_window(evaluate.fire(rule, f, first, last).collect(), rule.dedup_days)
                 for rule in active]
        fired = pl.concat(parts) if parts else pl.DataFrame(schema=evaluate.FIRED)
    longest = max((r.dedup_days for r in active), default=0)
    previous = select_frame(db, select(Warning.rule_code, Warning.entity_id, cast(Warning.fired_on, String))
                            .where(Warning.fired_on >= first - dt.timedelta(days=longest + 1)),
                            {"rule_code": pl.Utf8, "entity_id": pl.Int64, "fired_on": pl.Utf8})
    previous = previous.with_columns(pl.col("fired_on").str.slice(0, 10).str.to_date())
    fresh = evaluate.suppress_repeats(fired, previous=previous, rules=active).sort("fired_on", "rule_code",
                                                                                     "entity_id")
    rules_by_code = {r.code: r for r in active}
    row_ids = {(c, v): i for i, c, v in db.execute(select(WarningRule.id, WarningRule.code,
                                                          WarningRule.version_number))}
    entities = {e.id: e for e in db.scalars(select(Entity).where(
        Entity.id.in_(fresh["entity_id"].unique().to_list() or [-1]), Entity.status == "active"))}
    numbers: dict[int, int] = {}
    raised: list[Warning] = []
    for row in fresh.iter_rows(named=True):
        entity, rule = entities.get(row["entity_id"]), rules_by_code[row["rule_code"]]
        if entity is None:
            continue
        day: dt.date = row["fired_on"]
        number = numbers.setdefault(day.year, _next_code(db, day.year))
        numbers[day.year] = number + 1
        agency = route(db, domain=rule.domain, region_code=entity.region_code)
        warning = Warning(code=f"YJ{day.year}{number:06d}", rule_id=row_ids.get((rule.code, rule.version)),
                          rule_code=rule.code, entity_id=entity.id, region_code=entity.region_code,
                          agency_id=agency.id if agency else None, domain=rule.domain, level=rule.level,
                          fired_on=day, value=row["value"], threshold=row["threshold"], detail=row["detail"])
        workflow.start(db, warning, workflow=wf.WARNING, actor=actor,
                       payload={"rule": rule.code, "version": rule.version})
        raised.append(warning)
    _tell(db, raised, actor)
    levels = {lv: sum(w.level == lv for w in raised) for lv in ("red", "yellow", "blue")}
    return {"as_of": last.isoformat(), "from": first.isoformat(), "rules": len(active), "fired": fired.height,
            "repeats_suppressed": fired.height - fresh.height, "raised": len(raised),
            "unrouted": sum(w.agency_id is None for w in raised), "levels": levels}


def _tell(db: Session, raised: list[Warning], actor: User | None) -> None:
    """Each agency's officers and leaders hear of its new warnings (one message per warning)."""
    for agency_id in {w.agency_id for w in raised if w.agency_id is not None}:
        people = [u.id for u in staff_of(db, agency_ids=[agency_id], roles=[Role.officer, Role.leader])]
        for warning in (w for w in raised if w.agency_id == agency_id):
            notify.send(db, user_ids=people, kind="warning.assigned",
                        title=N_("Risk warning {code}: {detail}"), params={"code": warning.code,
                                                                         "detail": warning.detail[:100]},
                        link=f"/risk/warnings/{warning.id}", actor=actor)


# --------------------------------------------------------------------------- the loop's guards and effects


def taking(ctx: workflow.Context) -> None:
    ctx.record.handler_id = ctx.actor.id if ctx.actor else None


def transferring(ctx: workflow.Context) -> None:
    """Misrouted: to another agency that enforces the rule's domain, with the reason."""
    workflow.reason_required(ctx)
    target = db_agency(ctx.db, ctx.payload.get("agency_id"))
    if ctx.record.domain not in (target.domains or []):
        raise Invalid("agency_id", N_("{agency} does not enforce this warning's domain."), agency=target.name)
    ctx.record.agency_id = target.id
    ctx.record.handler_id = None


def db_agency(db: Session, agency_id: Any) -> Agency:
    try:
        found = db.get(Agency, int(agency_id))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Invalid("agency_id", N_("Choose the agency to transfer to."))
    return found


def disposing(ctx: workflow.Context) -> None:
    """Verified: an inspection plan, a case lead, or another measure described in the comment."""
    how = str(ctx.payload.get("disposition") or "")
    record: Warning = ctx.record
    if how not in DISPOSITIONS:
        raise Invalid("disposition", N_("Choose how the warning is disposed of."))
    if how == "other" and not ctx.comment:
        raise Invalid("comment", N_("Describe what was done."))
    assert ctx.actor is not None
    if how == "inspection":
        record.disposition_ref = f"plan:{_plan(ctx.db, record, ctx.actor).code}"
    elif how == "case":
        record.disposition_ref = f"case:{_case(ctx.db, record, ctx.actor).code}"
    record.disposition, record.reason = how, ctx.comment


def false_alarming(ctx: workflow.Context) -> None:
    workflow.reason_required(ctx)
    ctx.record.disposition, ctx.record.reason, ctx.record.closed_at = "false_alarm", ctx.comment, utcnow()


def feeding_back(ctx: workflow.Context) -> None:
    if not ctx.comment:
        raise Invalid("comment", N_("Say what the inspection or case found."))
    ctx.record.feedback = ctx.comment


def closing(ctx: workflow.Context) -> None:
    ctx.record.closed_at = utcnow()


def _plan(db: Session, record: Warning, actor: User) -> Any:
    """A draft targeted plan naming the entity, for the officer to complete and submit."""
    from jianguan.inspections import service as inspections
    from jianguan.inspections.schemas import PlanIn

    entity = db.get(Entity, record.entity_id)
    assert entity is not None
    item = wf.loop_rules()["verification_items"].get(record.domain)
    if not item:
        raise Invalid("disposition", N_("No catalog item is set for verifying {domain} warnings."),
                      domain=record.domain)
    today = today_shanghai()
    return inspections.create_plan(db, actor=actor, agency_id=record.agency_id, data=PlanIn.model_validate({
        "title": f"风险预警核查：{record.code}（{entity.name}）"[:200], "kind": "targeted", "methods": ["on_site"],
        "item_codes": [item], "target_usccs": [entity.uscc] if entity.uscc else [], "starts_on": today,
        "ends_on": today + dt.timedelta(days=30), "scope": {"region_code": entity.region_code},
        "description": f"预警 {record.code}：{record.detail}"}))


def _case(db: Session, record: Warning, actor: User) -> Any:
    from jianguan.cases import service as cases
    from jianguan.cases.schemas import LeadIn

    entity = db.get(Entity, record.entity_id)
    assert entity is not None
    return cases.register_lead(db, actor=actor, agency_id=record.agency_id, data=LeadIn.model_validate({
        "title": f"{entity.name}（风险预警 {record.code}）"[:300], "source_type": "risk_warning",
        "source_ref": record.code, "party_uscc": entity.uscc, "facts": record.detail,
        "discovered_on": record.fired_on}))


def act(db: Session, *, warning_id: int, action: str, actor: User, comment: str = "",
        payload: dict[str, Any] | None = None, expected_version: int | None = None) -> Warning:
    record = get(db, warning_id=warning_id, actor=actor)
    workflow.act(db, record, action=action, actor=actor, comment=comment, payload=payload,
                 expected_version=expected_version)
    audit.record(db, actor=actor, action=f"warning.{action}", object_type="warning", object_id=record.id,
                 detail={"code": record.code, "state": record.state, "disposition": record.disposition})
    return record


# --------------------------------------------------------------------------- reading


def get(db: Session, *, warning_id: int, actor: User) -> Warning:
    record = db.scalar(select(Warning).where(Warning.id == warning_id, visible(Warning, actor)))
    if record is None:
        raise NotFound(N_("No such warning."))
    return record


def listing(db: Session, *, actor: User, state: str = "", level: str = "", rule_code: str = "",
            open_only: bool = False, entity_id: int | None = None, limit: int = 200,
            offset: int = 0) -> tuple[list[Warning], int]:
    """The warnings the person may see, the most urgent first: red before yellow before blue, then due."""
    where = [visible(Warning, actor)]
    if entity_id is not None:
        where.append(Warning.entity_id == entity_id)
    if state:
        where.append(Warning.state == state)
    elif open_only:
        where.append(Warning.state.in_(wf.OPEN))
    if level:
        where.append(Warning.level == level)
    if rule_code:
        where.append(Warning.rule_code == rule_code)
    total = db.scalar(select(func.count()).select_from(Warning).where(*where)) or 0
    order = case({"red": 0, "yellow": 1, "blue": 2}, value=Warning.level, else_=3)
    rows = db.scalars(select(Warning).where(*where).order_by(order, Warning.due_date, Warning.id.desc())
                      .offset(offset).limit(limit))
    return list(rows), total


def rule_figures(db: Session, *, actor: User) -> pl.DataFrame:
    """Per rule: raised, closed, false alarms and the false-alarm rate among the closed ones."""
    stmt = select(Warning.rule_code, Warning.state, Warning.disposition).where(visible(Warning, actor))
    frame = select_frame(db, stmt, {"rule_code": pl.Utf8, "state": pl.Utf8, "disposition": pl.Utf8})
    return (frame.group_by("rule_code").agg(
        raised=pl.len(), closed=(pl.col("state") == wf.CLOSED).sum(),
        false_alarms=(pl.col("disposition") == "false_alarm").sum())
        .with_columns(false_alarm_rate=pl.when(pl.col("closed") > 0)
                      .then((pl.col("false_alarms") / pl.col("closed") * 100).round(1)).otherwise(None))
        .sort("rule_code"))


def by_region(db: Session, *, actor: User, open_only: bool = True) -> list[dict[str, Any]]:
    """Open warnings per county with the highest level, placed where the county's entities (or its
    complaints) are: no map tiles or boundaries are needed on an intranet."""
    from jianguan.collab.models import Complaint
    from jianguan.reference.models import Region

    where = [visible(Warning, actor)] + ([Warning.state.in_(wf.OPEN)] if open_only else [])
    counts = select_frame(db, select(Warning.region_code, Warning.level).where(*where),
                          {"region": pl.Utf8, "level": pl.Utf8})
    if not counts.height:
        return []
    regions = counts["region"].unique().to_list()
    places: dict[str, tuple[float, float]] = {}
    for model in (Entity, Complaint):
        for code, lat, lng in db.execute(select(model.region_code, func.avg(model.latitude), func.avg(model.longitude))
                                         .where(model.region_code.in_(regions), model.latitude.is_not(None))
                                         .group_by(model.region_code)):
            places.setdefault(code, (float(lat), float(lng)))
    names = {c: n for c, n in db.execute(select(Region.code, Region.name).where(Region.code.in_(regions)))}
    out = []
    for (region,), part in counts.group_by("region"):
        levels = {lv: int((part["level"] == lv).sum()) for lv in ("red", "yellow", "blue")}
        top = next((lv for lv in ("red", "yellow", "blue") if levels[lv]), "blue")
        lat, lng = places.get(str(region), (None, None))
        out.append({"code": region, "name": names.get(str(region), region), "total": part.height, "levels": levels,
                    "top": top, "lat": lat, "lng": lng})
    return sorted(out, key=lambda r: (-r["total"], r["code"]))


def open_counts(db: Session, *, actor: User) -> dict[str, int]:
    """Open warnings by level, and how many are past their step's due date (for the front page)."""
    where = [visible(Warning, actor), Warning.state.in_(wf.OPEN)]
    out = {str(level): int(n) for level, n in db.execute(select(Warning.level, func.count()).where(*where)
                                                          .group_by(Warning.level))}
    out["overdue"] = db.scalar(select(func.count()).select_from(Warning).where(
        *where, Warning.due_date < today_shanghai())) or 0
    return out
