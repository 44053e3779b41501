"""Import kind ``feeds``: sampling tests (抽检), public opinion (舆情), drills and training, fire-system
status, special-equipment inspections, hidden dangers, declared figures (申报数据) and tax credit.

A record is keyed by (entity, kind, day, category, period, metric, product, item, headline, url); a
declared figure by (entity, period, metric, category) whatever its day. A file sent twice adds
nothing; a re-sent record with another outcome, value, due date, lab, unit or note updates the stored
one (a hidden danger closed, a declaration corrected). Per-kind rules (outcomes, categories, required
fields) come from the metric catalogue (``risk/data/metrics.yaml``); the column programs are shared
with ``readings`` (``risk/importing.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import polars as pl
from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.bulkload import load_frame, one_of, select_frame
from jianguan.core.i18n import N_
from jianguan.imports.checks import (
    DIMENSION_OF,
    ERROR,
    MESSAGES,
    WARNING,
    Context,
    Field,
    Found,
    Problems,
    blank,
    stripped,
)
from jianguan.risk.importing import (
    TOLERATED,
    USCC,
    batch_id_of,
    check_registry,
    entities_of,
    kind_code,
    metric_checks,
    metric_code,
    number,
    out_of_scope,
    unit_code,
)
from jianguan.risk.metrics import PERIOD_RE, catalogue
from jianguan.risk.models import FeedRecord

__all__ = ["TOLERATED", "check_registry", "out_of_scope"]  # the pipeline reads them from this module too

MESSAGES.update(
    {
        "metric.reading": N_("This metric is sent by sensors: import it as readings."),
        "feed.kind": N_(
            "Not a feed kind (sampling, opinion, drill, training, fire_system, equipment_inspection, "
            "hidden_danger, declared, tax_credit)."
        ),
        "feed.outcome": N_("Not an outcome of {kind}: {allowed}."),
        "feed.category": N_("Not a category of {kind}: {allowed}."),
        "feed.period": N_("Give the period as a month (2026-10), a quarter (2026Q3) or a year (2026)."),
        "feed.url": N_("Not a web address (http:// or https://)."),
    }
)
DIMENSION_OF.update({"metric.reading": "consistency"})
KIND = "feeds"
KEY = "uscc"  # problems about the row's entity are reported here; the key itself is KEY_VALUE
SEP = "\x01"  # between the parts of a composed key (no cell holds it; not whitespace, so never stripped)
FEEDS_TABLE = cast(Table, FeedRecord.__table__)
FIELDS: tuple[Field, ...] = (
    Field("uscc", "统一社会信用代码", "uscc", True),
    Field(
        "kind",
        "数据类型",
        required=True,
        help="sampling 抽检 / opinion 舆情 / drill 演练 / training 培训 / fire_system 消防设施状态 / "
        "equipment_inspection 特种设备检验 / hidden_danger 隐患报告 / declared 申报数据 / tax_credit 纳税信用",
    ),
    Field("occurred_on", "日期", "date", True, help="抽检、报道、演练、检验、申报或评价的日期 YYYY-MM-DD"),
    Field(
        "outcome",
        "结果",
        help="抽检 pass/fail；舆情 negative/neutral/positive；演练、培训 done/missed；"
        "消防设施 ok/fault；特种设备 pass/fail；隐患 open/closed（可填中文）",
    ),
    Field("category", "类别", help="抽检的食品类别、补贴类别等；纳税信用为级别 A/B/M/C/D"),
    Field("product", "产品名称", help="抽检必填"),
    Field("item", "项目", help="抽检的检验项目；隐患的内容"),
    Field("lab", "检验机构", help="抽检"),
    Field("headline", "标题", help="舆情必填"),
    Field("url", "链接", help="舆情"),
    Field("due_on", "到期日", "date", future=True, help="特种设备下次检验日期（必填）；隐患治理期限"),
    Field("period", "所属期", help="申报数据必填：2026-10、2026Q3 或 2026"),
    Field("metric", "申报指标", help="申报数据必填：declared_output / headcount / revenue / subsidy / electricity_kwh"),
    Field("value", "数值", "decimal", help="申报数据必填"),
    Field("unit", "单位", help="申报数据：可留空，按指标目录"),
    Field("note", "说明"),
)
ATTRS = ("product", "item", "lab", "headline", "url", "note", "unit")


_KIND = kind_code(pl.col("kind"))
_DAY = stripped("occurred_on").str.slice(0, 10)
_CATEGORY = pl.when(_KIND == "tax_credit").then(stripped("category").str.to_uppercase()).otherwise(stripped("category"))
_PERIOD = stripped("period").str.to_uppercase()


def _identity(
    uscc: pl.Expr,
    kind: pl.Expr,
    day: pl.Expr,
    category: pl.Expr,
    period: pl.Expr,
    metric: pl.Expr,
    attrs: dict[str, pl.Expr],
) -> pl.Expr:
    """What makes two feed rows the same fact (a declared figure's day is not part of it)."""
    declared = kind == "declared"
    return pl.concat_str(
        [
            uscc,
            kind,
            pl.when(declared).then(pl.lit("")).otherwise(day),
            category,
            period,
            metric.fill_null(""),
            *(pl.when(declared).then(pl.lit("")).otherwise(attrs[a]) for a in ("product", "item", "headline", "url")),
        ],
        separator=SEP,
    )


KEY_VALUE = _identity(
    USCC, _KIND, _DAY, _CATEGORY, _PERIOD, metric_code(pl.col("metric")), {a: stripped(a) for a in ATTRS}
)


def _payload(outcome: pl.Expr, value: pl.Expr, due_on: pl.Expr, attrs: dict[str, pl.Expr]) -> pl.Expr:
    """What a re-sent row may change (compared to decide whether a stored record is updated)."""
    return pl.concat_str(
        [
            outcome.fill_null(""),
            value.round(4).cast(pl.String).fill_null(""),
            due_on.fill_null(""),
            *(attrs[a].fill_null("") for a in ("lab", "note", "unit")),
        ],
        separator=SEP,
    )


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """Kind known; per kind its required fields, outcomes and categories; declared figures' period,
    metric, range and unit; a web address that looks like one."""
    cat = catalogue()
    kind, outcome = (
        _KIND,
        (_KIND + "|" + stripped("outcome").str.to_lowercase()).replace_strict(
            cat.outcome_lookup(), default=None, return_dtype=pl.String
        ),
    )
    found: Found = [(~blank("kind") & kind.is_null(), "kind", "feed.kind", ERROR, {})]
    for code, feed in cat.feeds.items():
        this = kind == code
        found += [(this & blank(f), f, "required", ERROR, {}) for f in feed.requires]
        allowed = " / ".join(f"{c}（{'、'.join(s)}）" if s else c for c, s in feed.outcomes.items()) or "（留空）"
        found.append(
            (
                this & ~blank("outcome") & outcome.is_null(),
                "outcome",
                "feed.outcome",
                ERROR,
                {"kind": code, "allowed": allowed},
            )
        )
        if feed.categories:
            found.append(
                (
                    this & ~blank("category") & ~_CATEGORY.is_in(list(feed.categories)),
                    "category",
                    "feed.category",
                    ERROR,
                    {"kind": code, "allowed": " / ".join(feed.categories)},
                )
            )
    declared, metric = kind == "declared", metric_code(pl.col("metric"))
    readings_only = [m.code for m in cat.metrics if "declared" not in m.sources]
    found += [
        (declared & ~blank("period") & ~_PERIOD.str.contains(PERIOD_RE), "period", "feed.period", ERROR, {}),
        (declared & ~blank("metric") & metric.is_null(), "metric", "metric.unknown", ERROR, {}),
        (declared & metric.is_in(readings_only), "metric", "metric.reading", ERROR, {}),
        *(
            (declared & mask, key, code, severity, params)
            for mask, key, code, severity, params in metric_checks(metric, "declared", "value", "unit")
        ),
        (~blank("url") & ~stripped("url").str.contains(r"^https?://"), "url", "feed.url", WARNING, {}),
    ]
    problems.add_many(df, found)


def _json_attrs(columns: Sequence[str]) -> pl.Expr:
    """A JSON object of the non-empty columns (each value JSON-escaped by Polars)."""
    pairs = [
        pl.when(pl.col(c) != "").then(pl.struct(pl.col(c)).struct.json_encode().str.slice(1).str.head(-1))
        for c in columns
    ]
    return pl.lit("{") + pl.concat_str(pairs, separator=",", ignore_nulls=True) + pl.lit("}")


def _feed_rows(db: Session, frame: pl.DataFrame, *, batch_id: int | None, source: str) -> pl.DataFrame:
    cat = catalogue()
    defaults = {m.code: m.unit[0] for m in cat.metrics}
    rows = frame.with_columns(
        USCC.alias("uscc"),
        _KIND.alias("kind"),
        _CATEGORY.alias("category"),
        _PERIOD.alias("period"),
        _DAY.alias("day"),
        metric_code(pl.col("metric")).fill_null("").alias("metric"),
        (_KIND + "|" + stripped("outcome").str.to_lowercase())
        .replace_strict(cat.outcome_lookup(), default="", return_dtype=pl.String)
        .alias("outcome"),
        _DAY.str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("occurred_on"),
        pl.when(~blank("due_on")).then(stripped("due_on").str.slice(0, 10)).alias("due_on"),
        number("value").alias("number"),
        pl.when(~blank("value")).then(stripped("value")).alias("value"),
        *(stripped(a).alias(a) for a in ATTRS if a != "unit"),
    )
    rows = rows.with_columns(
        pl.when(pl.col("kind") == "declared")
        .then(unit_code(pl.col("unit")).fill_null(pl.col("metric").replace_strict(defaults, default="")))
        .otherwise(pl.lit(""))
        .alias("unit")
    )
    own = {a: pl.col(a) for a in ATTRS}
    rows = rows.with_columns(
        _identity(
            pl.col("uscc"), pl.col("kind"), pl.col("day"), pl.col("category"), pl.col("period"), pl.col("metric"), own
        ).alias("key"),
        _payload(pl.col("outcome"), pl.col("number"), pl.col("due_on"), own).alias("payload"),
        _json_attrs(ATTRS).alias("attrs"),
        pl.lit(source[:60] or "import").alias("source"),
        pl.lit(batch_id, pl.Int64).alias("batch_id"),
    )
    return rows.join(entities_of(db, rows.get_column("uscc")), on="uscc")


def _stored_feeds(
    db: Session, entities: pl.DataFrame, *, kinds: list[str], days: list[dt.date], periods: list[str]
) -> pl.DataFrame:
    """The stored records these rows could repeat: ``id``, ``key``, ``payload``."""
    if entities.height == 0 or not kinds:
        return pl.DataFrame(schema={"id": pl.Int64, "key": pl.String, "payload": pl.String})
    where: list[ColumnElement[bool]] = [FeedRecord.occurred_on.between(min(days), max(days))] if days else []
    if periods:
        where.append(and_(FeedRecord.kind == "declared", FeedRecord.period.in_(periods)))
    if not where:
        return pl.DataFrame(schema={"id": pl.Int64, "key": pl.String, "payload": pl.String})
    stmt = select(
        FeedRecord.id,
        FeedRecord.entity_id,
        FeedRecord.kind,
        FeedRecord.occurred_on,
        FeedRecord.category,
        FeedRecord.period,
        FeedRecord.metric,
        FeedRecord.outcome,
        FeedRecord.value,
        FeedRecord.due_on,
        FeedRecord.attrs,
    ).where(
        one_of(db, FeedRecord.entity_id, entities.get_column("entity_id").to_list()),
        FeedRecord.kind.in_(kinds),
        or_(*where),
    )
    text = {
        "kind": pl.String,
        "occurred_on": pl.String,
        "category": pl.String,
        "period": pl.String,
        "metric": pl.String,
        "outcome": pl.String,
    }
    old = select_frame(
        db,
        stmt,
        {"id": pl.Int64, "entity_id": pl.Int64, **text, "value": pl.Float64, "due_on": pl.String, "attrs": pl.String},
    )
    old = old.with_columns(pl.col(list(text)).fill_null(""), pl.col("attrs").fill_null("{}"))
    old = old.with_columns(pl.col("attrs").str.json_path_match(f"$.{a}").fill_null("").alias(a) for a in ATTRS)
    old = old.join(entities, on="entity_id")
    return old.select(
        "id",
        _identity(
            pl.col("uscc"),
            pl.col("kind"),
            pl.col("occurred_on"),
            pl.col("category"),
            pl.col("period"),
            pl.col("metric"),
            {a: pl.col(a) for a in ATTRS},
        ).alias("key"),
        _payload(pl.col("outcome"), pl.col("value"), pl.col("due_on"), {a: pl.col(a) for a in ATTRS}).alias("payload"),
    )


def write(
    db: Session,
    frame: pl.DataFrame,
    *,
    actor: User | None,
    batch: str,
    source: str = "",
    as_of: dt.datetime | None = None,
) -> tuple[int, int]:
    """New records in bulk; records whose outcome, value, due date or details changed updated."""
    rows = _feed_rows(db, frame, batch_id=batch_id_of(batch), source=source)
    if rows.height == 0:
        return 0, 0
    old = _stored_feeds(
        db,
        rows.select("uscc", "entity_id").unique(),
        kinds=rows.get_column("kind").unique().to_list(),
        days=rows.get_column("occurred_on").drop_nulls().to_list(),
        periods=rows.filter(pl.col("kind") == "declared").get_column("period").unique().to_list(),
    )
    columns = (
        "entity_id",
        "kind",
        "category",
        "occurred_on",
        "outcome",
        "period",
        "metric",
        "value",
        "due_on",
        "attrs",
        "source",
        "batch_id",
    )
    new = rows.join(old, on="key", how="anti")
    load_frame(db, FEEDS_TABLE, new.select(columns))
    changed = rows.join(old, on="key", suffix="_old").filter(pl.col("payload") != pl.col("payload_old"))
    if changed.height:
        table = FEEDS_TABLE
        stmt = (
            update(table)
            .where(table.c.id == bindparam("old_id"))
            .values(
                **{
                    c: bindparam(f"new_{c}")
                    for c in ("occurred_on", "outcome", "value", "due_on", "attrs", "source", "batch_id")
                }
            )
        )
        params = changed.select(
            pl.col("id").alias("old_id"),
            *(pl.col(c).alias(f"new_{c}") for c in ("occurred_on", "outcome", "value", "due_on", "source", "batch_id")),
            pl.col("attrs").alias("new_attrs"),
        )
        db.execute(stmt, [_typed_params(p) for p in params.iter_rows(named=True)])
    return new.height, changed.height


def _typed_params(row: dict[str, Any]) -> dict[str, Any]:
    """Python values for an executemany (JSON as data, dates as dates)."""
    due = row["new_due_on"]
    return {
        **row,
        "new_attrs": json.loads(row["new_attrs"]),
        "new_due_on": dt.date.fromisoformat(due) if due else None,
        "new_value": Decimal(row["new_value"]) if row["new_value"] is not None else None,
    }


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    """Which composed keys are stored records already (the preview's updates)."""
    names = ["uscc", "kind", "day", "category", "period", "metric", "product", "item", "headline", "url"]
    parts = (
        pl.DataFrame({"key": list(keys)}, schema={"key": pl.String})
        .with_columns(pl.col("key").str.split_exact(SEP, len(names) - 1).struct.rename_fields(names).alias("p"))
        .unnest("p")
    )
    entities = entities_of(db, parts.get_column("uscc"))
    days = parts.get_column("day").str.strptime(pl.Date, "%Y-%m-%d", strict=False).drop_nulls().to_list()
    old = _stored_feeds(
        db,
        entities,
        kinds=parts.get_column("kind").unique().drop_nulls().to_list(),
        days=days,
        periods=parts.filter(pl.col("kind") == "declared").get_column("period").unique().to_list(),
    )
    return set(old.get_column("key").to_list()) & set(keys)


def registry_empty(db: Session) -> bool:
    """No feed record imported yet (cross-check results are never matched): skip the preview's lookups."""
    return db.scalar(select(FeedRecord.id).where(FeedRecord.kind != "cross_check").limit(1)) is None
