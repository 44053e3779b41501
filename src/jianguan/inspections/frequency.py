"""Differentiated frequency (差异化检查频次): how often each entity must be visited, when it is next due,
and the coverage of a region — computed in Polars over the registry, by the versioned rules of
``sampling_rules.yaml`` (code ``frequency``).

Visits a year an entity needs: the most of its risk level's (red 4, yellow 2, blue 1), its credit
class's (C and D 2, one of them unannounced) and its domain's (key domains 2, general 1); credit A is
exempt from routine visits (告知式 with data monitoring, about 0.3 a year). An entity is **due** when
its last visit is older than a year divided by that number (never visited: due now), **overdue** when
that moment is more than a month past, **done** otherwise. A visit is an inspection that reached the
site (or a remote check); risk levels are regraded once a year by the risk centre.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import DataScope, User
from jianguan.auth.scope import actor_region, region_prefix
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.entities.models import Entity
from jianguan.inspections import rules
from jianguan.inspections.models import Inspection

GRACE_DAYS = 30  # due → overdue after a month
KEY_DOMAINS = frozenset({"food", "special_equipment", "emergency", "ecology"})  # 重点领域 (key items' domains)


@dataclass(frozen=True)
class Coverage:
    region_code: str
    entities: int
    exempt: int
    done: int
    due: int
    overdue: int
    visits_needed: Decimal  # a year, for the region's entities

    @property
    def rate(self) -> float:
        needed = self.entities - self.exempt
        return round(100 * self.done / needed, 1) if needed else 100.0


def _needed(rule: dict[str, Any], domain: str | None) -> pl.Expr:
    """Visits a year each entity needs, as a column expression over risk and credit."""
    risk = rule["risk_visits_per_year"]
    credit = rule.get("credit_visits_per_year", {})
    by_risk = pl.col("risk").fill_null("none").replace_strict(
        {k: float(v) for k, v in risk.items()}, default=float(risk["none"]), return_dtype=pl.Float64)
    by_credit = pl.col("credit").replace_strict({k: float(v) for k, v in credit.items()}, default=0.0,
                                                return_dtype=pl.Float64)
    domain_min = float(rule["key_domain_visits_per_year"] if domain in KEY_DOMAINS else rule["general_visits_per_year"])
    needed = pl.max_horizontal(by_risk, by_credit, pl.lit(domain_min))
    exempt = pl.col("credit").is_in(rule.get("exempt_credit_classes", []))
    return pl.when(exempt).then(pl.lit(float(rule["exempt_visits_per_year"]))).otherwise(needed)


def schedule(db: Session, *, region_code: str, domain: str | None = None, today: dt.date | None = None,
             agency_id: int | None = None) -> pl.DataFrame:
    """One row per active entity of the region: needed visits a year, last visit, next due, status
    (done / due / overdue / exempt). Columnar: a province's registry in a few seconds.

    For one agency (``agency_id``) a visit counts when it is the agency's own, or another department's
    inspection of an item whose results are recognised (结果互认) and still valid; ``recognised`` then
    names that inspection."""
    from jianguan.collab import recognition

    today = today or today_shanghai()
    rule = rules.current(db, rules.FREQUENCY, today).rules
    prefix = region_prefix(region_code)
    lo, hi = prefix.ljust(6, "0"), prefix.ljust(6, "9")
    entities = pl.DataFrame(db.execute(
        select(Entity.id, Entity.uscc, Entity.name, Entity.region_code, Entity.risk_level, Entity.credit_class)
        .where(Entity.region_code.between(lo, hi), Entity.status == "active")).all(),
        schema={"entity_id": pl.Int64, "uscc": pl.Utf8, "name": pl.Utf8, "region_code": pl.Utf8, "risk": pl.Utf8,
                "credit": pl.Utf8}, orient="row")
    where: list[ColumnElement[bool]] = [Inspection.region_code.between(lo, hi),
                                        Inspection.visit_started_at.is_not(None)]
    if agency_id is not None:
        where.append(Inspection.agency_id == agency_id)
    visits = pl.DataFrame(db.execute(
        select(Inspection.entity_id, func.max(Inspection.visit_started_at)).where(*where)
        .group_by(Inspection.entity_id)).all(),
        schema={"entity_id": pl.Int64, "last_visit": pl.Datetime(time_zone="UTC")}, orient="row")
    visits = visits.with_columns(pl.col("last_visit").dt.convert_time_zone("Asia/Shanghai").dt.date(),
                                 recognised=pl.lit("", pl.Utf8))
    if agency_id is not None:
        others = (recognition.recognitions(db, on=today, other_than=agency_id, region_codes=(lo, hi))
                  .sort("visited_on", descending=True).unique("entity_id", keep="first")
                  .select("entity_id", pl.col("visited_on").alias("last_visit"),
                          pl.col("inspection_code").alias("recognised")))
        visits = (pl.concat([visits, others]).sort("last_visit", descending=True)
                  .unique("entity_id", keep="first"))
    exempt = pl.col("credit").is_in(rule.get("exempt_credit_classes", []))
    return (entities.join(visits, on="entity_id", how="left")
            .with_columns(needed=_needed(rule, domain), recognised=pl.col("recognised").fill_null(""))
            .with_columns(interval=(365.0 / pl.col("needed")).floor().cast(pl.Int64))
            .with_columns(due_on=pl.when(pl.col("last_visit").is_null()).then(pl.lit(today))
                          .otherwise(pl.col("last_visit") + pl.duration(days=pl.col("interval"))))
            .with_columns(status=pl.when(exempt).then(pl.lit("exempt"))
                          .when(pl.col("due_on") > pl.lit(today)).then(pl.lit("done"))
                          .when(pl.col("due_on") < pl.lit(today - dt.timedelta(days=GRACE_DAYS)))
                          .then(pl.lit("overdue")).otherwise(pl.lit("due")))
            .sort("due_on", "entity_id"))


def coverage(db: Session, *, region_code: str, domain: str | None = None,
             today: dt.date | None = None, agency_id: int | None = None) -> list[Coverage]:
    """Per county of the region: entities, exempt, done, due, overdue and the visits a year needed."""
    frame = schedule(db, region_code=region_code, domain=domain, today=today, agency_id=agency_id)
    grouped = frame.group_by("region_code").agg(
        entities=pl.len(), exempt=(pl.col("status") == "exempt").sum(), done=(pl.col("status") == "done").sum(),
        due=(pl.col("status") == "due").sum(), overdue=(pl.col("status") == "overdue").sum(),
        needed=pl.col("needed").sum()).sort("region_code")
    return [Coverage(r, int(n), int(x), int(d), int(u), int(o), Decimal(str(round(v, 1))))
            for r, n, x, d, u, o, v in grouped.iter_rows()]


def check_region(actor: User | None, region_code: str) -> str:
    """The region asked for, if it lies within the actor's data scope (else refused: no peeking)."""
    if not re.fullmatch(r"\d{6}", region_code or ""):
        raise Invalid("region", N_("Region code must be six digits (GB/T 2260)."))
    if actor is None or actor.data_scope == DataScope.all.value:
        return region_code
    own = actor_region(actor)
    if own is None or not region_code.startswith(region_prefix(own)):
        raise Forbidden(N_("This region is outside your data scope."))
    return region_code


def region_of(actor: User) -> str:
    return actor_region(actor) or ""
