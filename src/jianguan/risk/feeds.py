"""Data feeds of the risk centre: batches that connected systems send over the API, and the
cross-source checks (数据比对) of a period, against the metric catalogue (``risk/metrics.py``).

API batches go through the one import pipeline (the ``readings`` kind of ``risk/importing.py`` and
the ``feeds`` kind of ``risk/feed_import.py``): stored as an import batch, checked row by row, written
all or nothing. The cross-checks compare declared figures with metered electricity and with each
other, in Polars over whole columns; each mismatch becomes a feed record of kind ``cross_check`` that
the score counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import string
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.config import get_settings
from jianguan.core.bulkload import load_frame, one_of, select_frame
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import SHANGHAI
from jianguan.entities.models import Entity
from jianguan.imports import pipeline
from jianguan.imports.models import ImportBatch
from jianguan.risk.metrics import PERIOD_RE, CrossCheck, catalogue
from jianguan.risk.models import FeedRecord, Reading

KINDS = ("readings", "feeds")  # the import kinds of this package
MAX_BATCH = 10_000  # rows per API batch
CROSS_CHECK = "cross_check"
SOURCE = "数据比对"


# --------------------------------------------------------------------------- periods


def period_span(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a month (2026-10), quarter (2026Q3) or year (2026)."""
    text = period.strip().upper()
    if not re.match(PERIOD_RE, text) or int(text[:4]) < 1900:
        raise Invalid("period", N_("Give the period as a month (2026-10), a quarter (2026Q3) or a year (2026)."))
    year = int(text[:4])
    if "-" in text:
        first, months = dt.date(year, int(text[5:7]), 1), 1
    elif "Q" in text:
        first, months = dt.date(year, 3 * int(text[5]) - 2, 1), 3
    else:
        first, months = dt.date(year, 1, 1), 12
    return first, _add_months(first, months) - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_start(day: dt.date) -> dt.datetime:
    """The month's first instant in Asia/Shanghai, as UTC."""
    return dt.datetime(day.year, day.month, 1, tzinfo=SHANGHAI).astimezone(dt.UTC)


# --------------------------------------------------------------------------- API batches


def _cell(value: Any) -> str:
    """A JSON value as the text a file would hold (floats without exponent: ``1e-05`` → ``0.00001``)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def ingest(
    db: Session, *, kind: str, rows: Sequence[Mapping[str, Any]], actor: User, source: str = ""
) -> tuple[ImportBatch, pipeline.Outcome]:
    """A connected system's batch, through the import pipeline as a stored CSV batch: the same checks
    and all-or-nothing write as a file. The caller turns ``outcome.written == False`` into a refusal."""
    from jianguan.imports import service as imports

    if kind not in KINDS:
        raise Invalid("kind", N_("Unknown import kind {kind}."), kind=kind)
    if not rows or len(rows) > MAX_BATCH:
        raise Invalid("body", N_("Send between 1 and {limit} rows in one batch."), limit=MAX_BATCH)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    frame = pl.DataFrame(
        {c: [_cell(row.get(c)) for row in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    )
    root = get_settings().home / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        path = Path(tmp) / f"api-{kind}.csv"
        frame.write_csv(path)
        return imports.import_file(db, kind=kind, path=path, actor=actor, source=source or "api")


def problems_of(outcome: pipeline.Outcome, *, errors_only: bool = True) -> list[dict[str, Any]]:
    """The outcome's problems named by the position in the sent list (``row`` 1 = the first element;
    ``index`` 0-based), field and code. Row 0 problems concern the whole batch."""
    found = []
    for p in outcome.problem_list():
        if errors_only and p["severity"] != "error":
            continue
        row = max(p["row"] - 1, 0)  # the stored CSV's header is row 1
        found.append(
            {
                "row": row,
                "index": row - 1 if row else None,
                "field": p["field"],
                "code": p["code"],
                "severity": p["severity"],
                "message": p["message"],
            }
        )
    return found


# --------------------------------------------------------------------------- cross-source checks
# Each check is a few joins and window medians over the period's figures: no per-entity Python, so the
# same expressions could run on a distributed engine over exported files (DESIGN §3).

CHECK_METRICS = {
    "electricity_output": "kwh_per_output",
    "stopped_power": "kwh_vs_average",
    "subsidy_headcount": "subsidy_per_head",
    "subsidy_revenue": "subsidy_per_revenue",
}


def _declared(db: Session, periods: Sequence[str], metrics: Sequence[str]) -> pl.DataFrame:
    """Declared figures: ``entity_id, period, metric, category, unit, value`` (the latest record of each)."""
    stmt = select(
        FeedRecord.id,
        FeedRecord.entity_id,
        FeedRecord.period,
        FeedRecord.metric,
        FeedRecord.category,
        FeedRecord.value,
        FeedRecord.attrs,
    ).where(
        FeedRecord.kind == "declared",
        FeedRecord.period.in_(list(periods)),
        FeedRecord.metric.in_(list(metrics)),
        FeedRecord.value.is_not(None),
    )
    frame = select_frame(
        db,
        stmt,
        {
            "id": pl.Int64,
            "entity_id": pl.Int64,
            "period": pl.String,
            "metric": pl.String,
            "category": pl.String,
            "value": pl.Float64,
            "attrs": pl.String,
        },
    )
    defaults = {m.code: m.unit[0] for m in catalogue().metrics}
    return (
        frame.with_columns(
            pl.col("category").fill_null(""),
            pl.col("attrs")
            .str.json_path_match("$.unit")
            .fill_null(pl.col("metric").replace_strict(defaults, default=""))
            .alias("unit"),
        )
        .sort("id")
        .group_by("entity_id", "period", "metric", "category", maintain_order=True)
        .last()
        .drop("id", "attrs")
    )


def _electricity(db: Session, months: Sequence[dt.date], declared: pl.DataFrame) -> pl.DataFrame:
    """Electricity use per entity and month (``entity_id, month, kwh``): the sum of the metered
    readings, else the declared figure."""
    bounds = [_month_start(m) for m in (*months, _add_months(months[-1], 1))]
    bucket = case(*((Reading.measured_at < bounds[i + 1], i) for i in range(len(months))), else_=-1)
    stmt = (
        select(Reading.entity_id, bucket, func.sum(Reading.value))
        .where(Reading.metric == "electricity_kwh", Reading.measured_at >= bounds[0], Reading.measured_at < bounds[-1])
        .group_by(Reading.entity_id, bucket)
    )
    names = [m.strftime("%Y-%m") for m in months]
    metered = (
        select_frame(db, stmt, {"entity_id": pl.Int64, "i": pl.Int64, "metered": pl.Float64})
        .with_columns(pl.col("i").replace_strict(dict(enumerate(names)), return_dtype=pl.String).alias("month"))
        .drop("i")
    )
    told = (
        declared.filter(pl.col("metric") == "electricity_kwh")
        .group_by("entity_id", pl.col("period").alias("month"))
        .agg(pl.col("value").sum().alias("told"))
    )
    return metered.join(told, on=["entity_id", "month"], how="full", coalesce=True).select(
        "entity_id", "month", pl.coalesce("metered", "told").alias("kwh")
    )


def _shown(expr: pl.Expr, digits: int = 2) -> pl.Expr:
    """A figure as the sentence shows it (no trailing ``.0``)."""
    return expr.round(digits).cast(pl.String).str.replace(r"\.0+$", "")


def _sentence(template: str, figures: Mapping[str, pl.Expr]) -> pl.Expr:
    parts: list[pl.Expr] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(pl.lit(literal))
        if field:
            parts.append(figures[field])
    return pl.concat_str(parts)


def _record(frame: pl.DataFrame, code: str, figures: Mapping[str, pl.Expr], numbers: Sequence[str]) -> pl.DataFrame:
    """A check's mismatches as ``entity_id, category, metric, value, attrs`` (figures and sentence)."""
    check = catalogue().cross_checks[code]
    text = _sentence(check.text, figures)
    attrs = pl.struct(pl.lit(check.name).alias("check"), text.alias("text"), *(pl.col(n) for n in numbers))
    return frame.select(
        "entity_id",
        pl.lit(code).alias("category"),
        pl.lit(CHECK_METRICS[code]).alias("metric"),
        pl.col("ratio").round(4).alias("value"),
        attrs.struct.json_encode().alias("attrs"),
    )


def _median_rule(frame: pl.DataFrame, group: Sequence[str], check: CrossCheck) -> pl.DataFrame:
    """``ratio`` against the median of its group: ``median``, ``times`` and only the mismatches."""
    frame = frame.with_columns(
        pl.col("ratio").median().over(group).alias("median"), pl.len().over(group).alias("peers")
    )
    frame = frame.with_columns((pl.col("ratio") / pl.col("median")).alias("times"))
    outside = pl.col("times") > check.above if check.above else pl.lit(False)
    if check.below:
        outside = outside | (pl.col("times") < check.below)
    return frame.filter((pl.col("peers") >= check.min_peers) & (pl.col("median") > 0) & outside)


def _electricity_checks(
    declared: pl.DataFrame, power: pl.DataFrame, entities: pl.DataFrame, period: str, months: Sequence[str]
) -> tuple[list[pl.DataFrame], dict[str, int]]:
    rules = catalogue().cross_checks
    output = (
        declared.filter((pl.col("metric") == "declared_output") & (pl.col("period") == period))
        .group_by("entity_id", "unit")
        .agg(pl.col("value").sum().alias("output"))
    )
    now = power.filter(pl.col("month") == period).select("entity_id", "kwh").drop_nulls()
    producing = (
        output.filter(pl.col("output") > 0)
        .join(now, on="entity_id")
        .join(entities, on="entity_id")
        .with_columns((pl.col("kwh") / pl.col("output")).alias("ratio"))
    )
    check = rules["electricity_output"]
    found = _median_rule(producing, ["division", "unit"], check)
    p = pl.lit(period)
    out = [
        _record(
            found,
            "electricity_output",
            {
                "period": p,
                "kwh": _shown(pl.col("kwh"), 0),
                "output": _shown(pl.col("output")),
                "unit": pl.col("unit"),
                "ratio": _shown(pl.col("ratio")),
                "median": _shown(pl.col("median")),
                "times": _shown(pl.col("times"), 1),
            },
            ["kwh", "output", "unit", "ratio", "median", "times", "peers"],
        )
    ]
    stop = rules["stopped_power"]
    before = (
        power.filter(pl.col("month").is_in(list(months[:-1])) & pl.col("kwh").is_not_null())
        .group_by("entity_id")
        .agg(pl.col("kwh").mean().alias("average"), pl.len().alias("known"))
    )
    stopped = (
        output.group_by("entity_id")
        .agg(pl.col("output").sum())
        .filter(pl.col("output") == 0)
        .join(now, on="entity_id")
        .join(before, on="entity_id")
        .filter((pl.col("known") >= stop.min_months) & (pl.col("average") > 0))
        .with_columns((pl.col("kwh") / pl.col("average")).alias("ratio"))
    )
    idle = stopped.filter(pl.col("ratio") > (stop.share or 0))
    out.append(
        _record(
            idle,
            "stopped_power",
            {
                "period": p,
                "kwh": _shown(pl.col("kwh"), 0),
                "average": _shown(pl.col("average"), 0),
                "months": pl.lit(str(stop.months)),
                "percent": _shown(pl.col("ratio") * 100, 1),
            },
            ["kwh", "average", "known"],
        )
    )
    return out, {"electricity_output": producing.height, "stopped_power": stopped.height}


def _subsidy_checks(declared: pl.DataFrame, period: str) -> tuple[list[pl.DataFrame], dict[str, int]]:
    rules = catalogue().cross_checks
    now = declared.filter(pl.col("period") == period)
    subsidy = (
        now.filter(pl.col("metric") == "subsidy")
        .group_by("entity_id", "category")
        .agg(pl.col("value").sum().alias("subsidy"))
    )
    out, compared = [], {}
    for code, metric in (("subsidy_headcount", "headcount"), ("subsidy_revenue", "revenue")):
        base = now.filter(pl.col("metric") == metric).group_by("entity_id").agg(pl.col("value").max().alias(metric))
        pairs = (
            subsidy.join(base, on="entity_id")
            .filter(pl.col(metric) > 0)
            .with_columns((pl.col("subsidy") / pl.col(metric)).alias("ratio"))
        )
        found = _median_rule(pairs, ["category"], rules[code])
        unnamed = pl.lit(rules[code].unnamed_category)
        named = pl.when(pl.col("category") != "").then(pl.col("category")).otherwise(unnamed)
        figures = {
            "period": pl.lit(period),
            "category": named,
            "subsidy": _shown(pl.col("subsidy")),
            metric: _shown(pl.col(metric), 0 if metric == "headcount" else 2),
            "ratio": _shown(pl.col("ratio"), 4),
            "median": _shown(pl.col("median"), 4),
            "percent": _shown(pl.col("ratio") * 100),
            "median_percent": _shown(pl.col("median") * 100),
            "times": _shown(pl.col("times"), 1),
        }
        out.append(_record(found, code, figures, ["category", "subsidy", metric, "ratio", "median", "times", "peers"]))
        compared[code] = pairs.height
    return out, compared


def may_cross_check(actor: User | None) -> bool:
    """The scheduled job (no actor) or a system administrator: the medians span the whole registry."""
    return actor is None or actor.has_role(Role.system_admin)


def cross_check(db: Session, *, period: str, actor: User | None) -> dict[str, Any]:
    """Compare the period's declared figures with metered electricity and with each other; each mismatch
    becomes a ``cross_check`` feed record (outcome ``mismatch``, category = the check) the score counts.
    Re-running a period replaces its cross-check records. Electricity checks need a month (2026-10);
    a quarter or a year runs the subsidy checks only. Flushes only."""
    if not may_cross_check(actor):
        raise Forbidden(N_("Only system administrators run the cross-checks."))
    first, last = period_span(period)
    period = period.strip().upper()
    monthly = "-" in period
    back = catalogue().cross_checks["stopped_power"].months
    months = [_add_months(first, k) for k in range(-back, 1)] if monthly else []
    names = [m.strftime("%Y-%m") for m in months]
    declared = _declared(
        db, sorted({period, *names}), ("declared_output", "electricity_kwh", "subsidy", "headcount", "revenue")
    )
    found, compared = _subsidy_checks(declared, period)
    if monthly:
        power = _electricity(db, months, declared)
        ids = sorted(set(declared.get_column("entity_id").to_list()) | set(power.get_column("entity_id").to_list()))
        entities = _industries(db, ids)
        more, counted = _electricity_checks(declared, power, entities, period, names)
        found, compared = more + found, counted | compared
    rows = (
        pl.concat(found)
        .with_columns(
            pl.lit(CROSS_CHECK).alias("kind"),
            pl.lit(last).alias("occurred_on"),
            pl.lit("mismatch").alias("outcome"),
            pl.lit(period).alias("period"),
            pl.lit(SOURCE).alias("source"),
        )
        .sort("category", "entity_id")
    )
    stale = delete(FeedRecord).where(
        FeedRecord.kind == CROSS_CHECK, FeedRecord.period == period, FeedRecord.category.in_(list(CHECK_METRICS))
    )
    replaced = db.execute(stale).rowcount or 0  # type: ignore[attr-defined]
    load_frame(db, FeedRecord.__table__, rows)
    listing = rows.select("category", "entity_id", "value").write_csv()
    counts = {code: rows.filter(pl.col("category") == code).height for code in CHECK_METRICS if code in compared}
    summary: dict[str, Any] = {
        "period": period,
        "compared": compared,
        "mismatches": counts,
        "written": rows.height,
        "replaced": max(replaced, 0),
    }
    audit.record(
        db,
        actor=actor,
        action="risk.cross_check",
        object_type="risk_cross_check",
        object_id=period,
        payload={**summary, "sha256": hashlib.sha256(listing.encode()).hexdigest()},
        detail=summary,
    )
    return {**summary, "rows": _listed(db, rows)}


def _industries(db: Session, ids: Sequence[int]) -> pl.DataFrame:
    """``entity_id → division`` (GB/T 4754 two digits; "" when unknown) for the medians."""
    if not ids:
        return pl.DataFrame(schema={"entity_id": pl.Int64, "division": pl.String})
    frame = select_frame(
        db,
        select(Entity.id, Entity.industry_code).where(one_of(db, Entity.id, list(ids))),
        {"entity_id": pl.Int64, "industry_code": pl.String},
    )
    return frame.select("entity_id", pl.col("industry_code").fill_null("").str.slice(0, 2).alias("division"))


def _listed(db: Session, rows: pl.DataFrame) -> list[dict[str, Any]]:
    """The mismatches as a person reads them: entity, check, ratio, sentence and figures."""
    if rows.height == 0:
        return []
    ids = rows.get_column("entity_id").unique().to_list()
    names = select_frame(
        db,
        select(Entity.id, Entity.uscc, Entity.name).where(one_of(db, Entity.id, ids)),
        {"entity_id": pl.Int64, "uscc": pl.String, "name": pl.String},
    )
    listed = rows.join(names, on="entity_id", how="left").select("uscc", "name", "category", "value", "attrs")
    return [
        {
            "uscc": r["uscc"],
            "name": r["name"],
            "category": r["category"],
            "value": r["value"],
            "check": (attrs := json.loads(r["attrs"])).pop("check"),
            "text": attrs.pop("text"),
            "figures": attrs,
        }
        for r in listed.iter_rows(named=True)
    ]


def cross_check_last_month(db: Session) -> dict[str, Any]:
    """The scheduled run: last month (Asia/Shanghai), without the listing."""
    from jianguan.core.workdays import today_shanghai

    month = _add_months(today_shanghai().replace(day=1), -1).strftime("%Y-%m")
    out = cross_check(db, period=month, actor=None)
    out.pop("rows")
    return out
