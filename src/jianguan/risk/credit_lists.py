"""合规企业名录 and 联合惩戒名单: derived on demand, never stored, so a list is always what the data says
today (or on the day asked). Conditions come from the rule set in force (``credit_rules.yaml``);
both lists are scoped to what the reader may see, and their exports (XLSX and CSV with Chinese
headers) are audited like every export (数据共享必留痕).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.cases.models import Case
from jianguan.core import exporting
from jianguan.core.bulkload import one_of, select_frame
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import day_start, today_shanghai
from jianguan.entities.codes import FALLBACK
from jianguan.entities.models import Entity, EntityTag
from jianguan.inspections.models import Finding
from jianguan.risk import credit_rules
from jianguan.risk.credit_rules import months_back
from jianguan.risk.models import FeedRecord

TAX_CREDIT = "tax_credit"  # the feed kind of imported tax credit (纳税信用级别 A/B/M/C/D)
COMPLIANT_HEADERS = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "region_code": "行政区划代码",
    "industry_code": "行业代码",
    "credit_class": "信用等级",
    "tax_credit": "纳税信用级别",
    "tax_credit_on": "纳税信用评价日期",
}
PUNISHMENT_HEADERS = {
    "uscc": "统一社会信用代码",
    "name": "名称",
    "region_code": "行政区划代码",
    "status": "登记状态",
    "credit_class": "信用等级",
    "reasons": "列入原因",
}
LISTS = {"compliant": ("合规企业名录", COMPLIANT_HEADERS), "punishment": ("联合惩戒名单", PUNISHMENT_HEADERS)}
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
TAG_LISTS = {"serious_violation": "严重违法失信名单", "abnormal_list": "经营异常名录"}
DAY = pl.Utf8  # dates are read as text (the same on both databases) and parsed in Polars


def _scope(actor: User | None) -> ColumnElement[bool]:
    return visible(Entity, actor) if actor is not None else true()


def _tag_in_force(as_of: dt.date) -> ColumnElement[bool]:
    return and_(
        or_(EntityTag.since.is_(None), EntityTag.since <= as_of),
        or_(EntityTag.until.is_(None), EntityTag.until > as_of),
    )


def compliant(db: Session, *, as_of: dt.date | None = None, actor: User | None) -> pl.DataFrame:
    """合规企业名录: active enterprises with no finding and no penalty decision in the rule's years, a
    credit class and the latest imported tax credit (on or before ``as_of``) in the rule's lists, and
    none of the excluded tags in force. An unknown tax credit is not good tax credit: not listed."""
    as_of = as_of or today_shanghai()
    rule = credit_rules.in_force(as_of).compliant
    first = months_back(as_of, 12 * rule.years)
    lo, hi = day_start(first), day_start(as_of + dt.timedelta(days=1))
    where = [
        Entity.status == "active",
        Entity.kind.in_(rule.kinds),
        Entity.credit_class.in_(rule.credit_classes),
        _scope(actor),
        ~exists().where(Finding.entity_id == Entity.id, Finding.created_at >= lo, Finding.created_at < hi),
        ~exists().where(
            Case.entity_id == Entity.id, Case.outcome == "penalty", Case.decided_on >= first, Case.decided_on <= as_of
        ),
    ]
    if rule.excluded_tags:
        where.append(
            ~exists().where(
                EntityTag.entity_id == Entity.id, EntityTag.tag.in_(rule.excluded_tags), _tag_in_force(as_of)
            )
        )
    base = select_frame(
        db,
        select(
            Entity.id, Entity.uscc, Entity.name, Entity.region_code, Entity.industry_code, Entity.credit_class
        ).where(*where),
        {
            "entity_id": pl.Int64,
            "uscc": pl.Utf8,
            "name": pl.Utf8,
            "region_code": pl.Utf8,
            "industry_code": pl.Utf8,
            "credit_class": pl.Utf8,
        },
    )
    tax = select_frame(
        db,
        select(FeedRecord.entity_id, FeedRecord.occurred_on, FeedRecord.id, FeedRecord.category).where(
            FeedRecord.kind == TAX_CREDIT,
            FeedRecord.occurred_on <= as_of,
            FeedRecord.entity_id.in_(select(Entity.id).where(*where)),
        ),
        {"entity_id": pl.Int64, "tax_credit_on": DAY, "id": pl.Int64, "tax_credit": pl.Utf8},
    )
    latest = (
        tax.with_columns(pl.col("tax_credit_on").str.slice(0, 10).str.to_date())
        .sort("tax_credit_on", "id")
        .group_by("entity_id")
        .last()
        .drop("id")
    )
    return (
        base.join(latest, on="entity_id", how="inner")
        .filter(pl.col("tax_credit").str.strip_chars().str.to_uppercase().is_in(rule.tax_credit))
        .select("entity_id", *COMPLIANT_HEADERS)
        .sort("region_code", "name", "entity_id")
    )


def joint_punishment(db: Session, *, as_of: dt.date | None = None, actor: User | None) -> pl.DataFrame:
    """联合惩戒名单: credit class D, or the serious-violation tag in force, or a severe penalty decided in
    the rule's years; ``reasons`` names every condition met (Chinese, "；"-separated)."""
    as_of = as_of or today_shanghai()
    rule = credit_rules.in_force(as_of).joint_punishment
    first = months_back(as_of, 12 * rule.years)
    scoped = select(Entity.id).where(_scope(actor))
    parts: list[pl.DataFrame] = []
    if rule.credit_classes:
        classed = select_frame(
            db,
            select(Entity.id, Entity.credit_class).where(Entity.credit_class.in_(rule.credit_classes), _scope(actor)),
            {"entity_id": pl.Int64, "value": pl.Utf8},
        )
        labels = {k: f"信用等级为{v}" for k, v in FALLBACK["credit_class"].items()}
        parts.append(
            classed.select(
                "entity_id",
                pl.lit(0).alias("order"),
                pl.lit("").alias("on"),
                pl.col("value").replace_strict(labels, default="信用等级").alias("reason"),
            )
        )
    if rule.tags:
        tagged = select_frame(
            db,
            select(EntityTag.entity_id, EntityTag.tag, EntityTag.since).where(
                EntityTag.tag.in_(rule.tags), _tag_in_force(as_of), EntityTag.entity_id.in_(scoped)
            ),
            {"entity_id": pl.Int64, "tag": pl.Utf8, "on": DAY},
        )
        names = {t: TAG_LISTS.get(t, FALLBACK["entity_tag"].get(t, t)) for t in rule.tags}
        since = pl.col("on").fill_null("").str.slice(0, 10)
        parts.append(
            tagged.select(
                "entity_id",
                pl.lit(1).alias("order"),
                since.alias("on"),
                pl.format(
                    "列入{}{}",
                    pl.col("tag").replace_strict(names, default=pl.col("tag")),
                    pl.when(since != "").then(pl.format("（{}起）", since)).otherwise(pl.lit("")),
                ).alias("reason"),
            )
        )
    if rule.severe_penalty:
        severe = select_frame(
            db,
            select(Case.entity_id, Case.decision_number, Case.code, Case.decided_on).where(
                Case.outcome == "penalty",
                Case.severe.is_(True),
                Case.decided_on >= first,
                Case.decided_on <= as_of,
                Case.entity_id.in_(scoped),
            ),
            {"entity_id": pl.Int64, "number": pl.Utf8, "code": pl.Utf8, "on": DAY},
        )
        on = pl.col("on").str.slice(0, 10)
        number = pl.when(pl.col("number").fill_null("") != "").then(pl.col("number")).otherwise(pl.col("code"))
        parts.append(
            severe.select(
                "entity_id",
                pl.lit(2).alias("order"),
                on.alias("on"),
                pl.format("近{}年受到严重行政处罚：{}（{}）", pl.lit(rule.years), number, on).alias("reason"),
            )
        )
    schema = {"entity_id": pl.Int64, "order": pl.Int32, "on": pl.Utf8, "reason": pl.Utf8}
    found = pl.concat([p.cast(schema) for p in parts]) if parts else pl.DataFrame(schema=schema)  # type: ignore[arg-type]
    reasons = (
        found.sort("entity_id", "order", "on")
        .group_by("entity_id", maintain_order=True)
        .agg(pl.col("reason").unique(maintain_order=True).str.join("；").alias("reasons"))
    )
    ids = reasons["entity_id"].to_list()
    people = (
        select_frame(
            db,
            select(Entity.id, Entity.uscc, Entity.name, Entity.region_code, Entity.status, Entity.credit_class).where(
                one_of(db, Entity.id, ids)
            ),
            {
                "entity_id": pl.Int64,
                "uscc": pl.Utf8,
                "name": pl.Utf8,
                "region_code": pl.Utf8,
                "status": pl.Utf8,
                "credit_class": pl.Utf8,
            },
        )
        if ids
        else None
    )
    if people is None:
        return pl.DataFrame(schema={"entity_id": pl.Int64, **dict.fromkeys(PUNISHMENT_HEADERS, pl.Utf8)})
    return (
        people.join(reasons, on="entity_id", how="inner")
        .select("entity_id", *PUNISHMENT_HEADERS)
        .sort("region_code", "name", "entity_id")
    )


def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A list as JSON-ready rows (English keys; dates as ISO text)."""
    return frame.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d")).to_dicts()


def export(db: Session, *, which: str, as_of: dt.date | None = None, actor: User | None, fmt: str = "xlsx") -> bytes:
    """One list as XLSX or CSV (UTF-8 with BOM, for Excel), Chinese headers; scoped and audited."""
    if which not in LISTS:
        raise Invalid("list", N_("Unknown value for {name}: {value}"), name="list", value=which)
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format", N_("Export format must be csv or xlsx."))
    as_of = as_of or today_shanghai()
    worksheet, headers = LISTS[which]
    frame = (
        compliant(db, as_of=as_of, actor=actor)
        if which == "compliant"
        else joint_punishment(db, as_of=as_of, actor=actor)
    )
    frame = frame.select(*headers).with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d"))
    if "status" in frame.columns:
        frame = frame.with_columns(pl.col("status").replace_strict(FALLBACK["entity_status"], default=pl.col("status")))
    audit.record_export(
        db, actor=actor, what=f"credit.{which}", filters={"as_of": as_of.isoformat()}, row_count=frame.height, fmt=fmt
    )
    if fmt == "csv":
        return ("\ufeff" + frame.rename(headers).write_csv()).encode()
    return exporting.as_bytes(frame, "xlsx", headers=headers, worksheet=worksheet)
