"""Warning rules evaluated over Polars frames: which (rule, entity) pairs fire on a day, and a back-test
of one rule over a span of days. No database and no per-row Python: each kind is a lazy plan over
whole columns (group_by, rolling, as-of joins on running totals), computed for a range of days at
once, so a back-test is one plan, not one call per day, and the same plan answers ``evaluate``.

Frame contracts (column dtype; other columns are ignored, a missing one is refused by name):

- readings:   entity_id Int64, metric Utf8, measured_at Datetime(us, UTC), value Float64 — sensor / IoT
  readings (cold_chain_temp, tank_pressure_ratio, cod_mg_l …);
- events:     entity_id Int64, kind Utf8, category Utf8, occurred_on Date, outcome Utf8 — complaints,
  drills, training, sampling tests, public-opinion items, rapid tests …;
- attributes: entity_id Int64, attribute Utf8, due_on Date — one row per dated item still open (a
  licence, an equipment inspection, an open rectification); ``due_on`` is the last day in order;
- periods:    entity_id Int64, period Utf8, metric Utf8, value Float64 — declared or metered figures of
  a period written 2026, 2026Q3, 2026-10 or 2026-10-31;
- levels:     entity_id Int64, changed_on Date, level_from Utf8, level_to Utf8 — risk level changes;
- outcomes (back-test only): entity_id Int64, occurred_on Date, kind Utf8 — failed inspections, incidents.

Days are Beijing days (Asia/Shanghai): a reading at 17:00 UTC belongs to the next day. On day d:

- threshold fires when a reading that day brings the readings beyond the limit within the trailing
  ``window_hours`` to ``min_count``;
- window compares the ``recent_days`` ending on d with the ``baseline_days`` before them, so only data
  in [d − baseline_days − recent_days + 1, d] matters;
- consecutive: the last ``count`` events of the kind up to d, within ``within_days``, all match;
- expiry: d is after ``due_on − days_before`` (with 0: the day after ``due_on``), and for a reminder
  (``include_past: false``) not after ``due_on``;
- mismatch: the entity's latest period ended before d, at most ``within_days`` ago, is off;
- level_change: an upward change within the ``within_days`` ending on d.

The result (``FIRED``): rule_code, rule_version, entity_id, fired_on, value, threshold, detail.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import day_start
from jianguan.risk import rules as spec
from jianguan.risk.rules import OUTCOMES, RuleSpec, label, unit

LOCAL = "Asia/Shanghai"
ONE_DAY = dt.timedelta(days=1)
ID, TEXT, DAY, NUM = pl.Int64(), pl.Utf8(), pl.Date(), pl.Float64()
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "readings": {"entity_id": ID, "metric": TEXT, "measured_at": pl.Datetime("us", "UTC"), "value": NUM},
    "events": {"entity_id": ID, "kind": TEXT, "category": TEXT, "occurred_on": DAY, "outcome": TEXT},
    "attributes": {"entity_id": ID, "attribute": TEXT, "due_on": DAY},
    "periods": {"entity_id": ID, "period": TEXT, "metric": TEXT, "value": NUM},
    "levels": {"entity_id": ID, "changed_on": DAY, "level_from": TEXT, "level_to": TEXT},
    "outcomes": {"entity_id": ID, "occurred_on": DAY, "kind": TEXT},
}
FIRED: dict[str, pl.DataType] = {"rule_code": TEXT, "rule_version": ID, "entity_id": ID, "fired_on": DAY}
FIRED |= {"value": NUM, "threshold": NUM, "detail": TEXT}
RANK = {"blue": 1, "yellow": 2, "red": 3}
COMPARE = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
COMPARE_WORDS = {"gt": "高于", "ge": "不低于", "lt": "低于", "le": "不高于"}
Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class Frames:
    """The input frames, lazy and held to their contracts (an absent one is empty)."""

    readings: pl.LazyFrame
    events: pl.LazyFrame
    attributes: pl.LazyFrame
    periods: pl.LazyFrame
    levels: pl.LazyFrame


def _frame(name: str, frame: Frame | None) -> pl.LazyFrame:
    """The frame held to its contract: the columns named, cast to their types (timestamps to UTC)."""
    schema = SCHEMAS[name]
    if frame is None:
        return pl.LazyFrame(schema=schema)
    lazy = frame.lazy()
    have = lazy.collect_schema()
    missing = [c for c in schema if c not in have]
    if missing:
        message = N_("The {frame} frame lacks the column(s) {columns}.")
        raise Invalid(name, message, frame=name, columns=", ".join(missing))
    columns = []
    for column, dtype in schema.items():
        expr = pl.col(column)
        given = have[column]
        if isinstance(given, pl.Datetime):
            expr = expr.dt.replace_time_zone("UTC") if given.time_zone is None else expr.dt.convert_time_zone("UTC")
        columns.append(expr.cast(dtype))
    return lazy.select(columns).filter(pl.col("entity_id").is_not_null())


def frames(**given: Frame | None) -> Frames:
    """``Frames`` from readings=…, events=…, attributes=…, periods=…, levels=… (each optional)."""
    names = ("readings", "events", "attributes", "periods", "levels")
    if unknown := set(given) - set(names):
        raise TypeError(f"unknown frame(s): {', '.join(sorted(unknown))}")
    return Frames(**{name: _frame(name, given.get(name)) for name in names})


# --------------------------------------------------------------------------- helpers


def _local_day(column: str = "measured_at") -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(LOCAL).dt.date()


def _days(first: dt.date, last: dt.date) -> pl.LazyFrame:
    return pl.LazyFrame({"fired_on": pl.date_range(first, last, eager=True)})


def _num(x: float) -> str:
    """A rule's constant as the detail shows it: 8, 0.05, 1500."""
    return format(round(x, 4), "f").rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _txt(expr: pl.Expr, digits: int = 1) -> pl.Expr:
    """A computed number as the detail shows it: 5, 8.3."""
    rounded = expr.round(digits)
    whole = rounded.cast(pl.Int64, strict=False).cast(pl.Utf8)
    return pl.when(rounded == rounded.floor()).then(whole).otherwise(rounded.cast(pl.Utf8))


def _text(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def _as_of(query: pl.LazyFrame, table: pl.LazyFrame, on: str) -> pl.LazyFrame:
    """Each query row joined to the entity's last table row on or before its ``on`` day."""
    return query.sort(on).join_asof(table.sort(on), on=on, by="entity_id", check_sortedness=False)


def _lookup(asked: pl.LazyFrame, table: pl.LazyFrame, offsets: list[int], columns: list[str]) -> pl.LazyFrame:
    """For each asked (entity_id, fired_on), the table's running ``columns`` as of fired_on − each offset,
    named ``<column><i>`` (0 before the entity's first row): differences of them are window totals."""
    shifted = asked.join(pl.LazyFrame({"offset": offsets}), how="cross")
    shifted = shifted.with_columns(day=pl.col("fired_on") - pl.duration(days=pl.col("offset")))
    at = [
        pl.col(c).filter(pl.col("offset") == o).first().alias(f"{c}{i}") for i, o in enumerate(offsets) for c in columns
    ]
    found = _as_of(shifted, table, "day").with_columns(pl.col(columns).fill_null(0))
    return found.group_by("entity_id", "fired_on").agg(*at)


# --------------------------------------------------------------------------- the six kinds


def _threshold(rule: spec.ThresholdRule, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    p = rule.params
    high = p.op in ("gt", "ge")
    beyond = COMPARE[p.op](pl.col("value"), p.value)
    extreme = pl.col("value").max() if high else pl.col("value").min()
    kept = [pl.col("metric") == p.metric, beyond, pl.col("measured_at") < day_start(last + ONE_DAY)]
    kept.append(pl.col("measured_at") >= day_start(first) - dt.timedelta(hours=p.window_hours))
    rolled = (
        f.readings.filter(*kept)
        .select("entity_id", "measured_at", "value")
        .sort("entity_id", "measured_at")
        .rolling(index_column="measured_at", period=f"{p.window_hours}h", group_by="entity_id")
        .agg(n=pl.len(), value=extreme)
    )
    noun, shown = p.label or label(p.metric), p.unit or unit(p.metric)
    limit = f"次{COMPARE_WORDS[p.op]}{_num(p.value)}{shown}，{'最高' if high else '最低'}"
    detail = _text(f"{p.window_hours}小时内{noun}", pl.col("n").cast(pl.Utf8), limit)
    return (
        rolled.filter(pl.col("n") >= p.min_count)
        .with_columns(fired_on=_local_day())
        .filter(pl.col("fired_on").is_between(first, last))
        .group_by("entity_id", "fired_on")
        .agg(pl.col("n").max(), extreme)
        .with_columns(threshold=pl.lit(p.value), detail=_text(detail, _txt(pl.col("value"), 2), shown))
    )


def _window_source(p: spec.WindowParams, since: dt.date, last: dt.date) -> tuple[str, pl.Expr, str, str]:
    """Which frame, its filter, and what the detail calls the thing counted and its unit."""
    origin, name = p.source.split(":", 1)
    if origin == "events":
        kept = pl.col("kind").eq(name) & pl.col("occurred_on").is_between(since, last)
        kept &= pl.col("category").eq(p.category) if p.category else True
        kept &= pl.col("outcome").eq(p.outcome) if p.outcome else True
        noun = spec.CATEGORIES.get(p.category or "", "") + label(name) + OUTCOMES.get(p.outcome or "", "")
        return origin, kept, p.label or noun, p.unit or unit(name)
    kept = pl.col("metric").eq(name) & (pl.col("measured_at") >= day_start(since))
    kept &= pl.col("measured_at") < day_start(last + ONE_DAY)
    counted = p.agg == "count"
    return (
        origin,
        kept,
        p.label or label(name) + ("监测数据" if counted else ""),
        p.unit or ("条" if counted else unit(name)),
    )


def _window(rule: spec.WindowRule, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    """Running totals per entity and day, looked up at d, d − recent and d − recent − baseline."""
    p = rule.params
    recent, base = p.recent_days, p.baseline_days or 0
    origin, kept, noun, shown = _window_source(p, first - dt.timedelta(days=recent + base - 1), last)
    if origin == "events":
        source = f.events.filter(kept).select("entity_id", day=pl.col("occurred_on"), v=pl.lit(1.0))
    else:
        source = f.readings.filter(kept).select("entity_id", day=_local_day(), v=pl.col("value"))
    running = [pl.col("n").cum_sum().over("entity_id").alias("cn"), pl.col("s").cum_sum().over("entity_id").alias("cs")]
    daily = source.group_by("entity_id", "day").agg(n=pl.len().cast(pl.Float64), s=pl.col("v").sum())
    daily = daily.sort("entity_id", "day").select("entity_id", "day", *running)
    if p.below is None:  # it fires only with data in the recent days: ask on the days just after data
        reach = pl.min_horizontal(pl.col("day") + pl.duration(days=recent - 1), pl.lit(last))
        asked = daily.select("entity_id", fired_on=pl.date_ranges(pl.max_horizontal("day", pl.lit(first)), reach))
        asked = asked.explode("fired_on").drop_nulls().unique()
    else:
        asked = daily.select("entity_id").unique().join(_days(first, last), how="cross")
    looked = _lookup(asked, daily, [0, recent, recent + base] if base else [0, recent], ["cn", "cs"])
    rn, rs = pl.col("cn0") - pl.col("cn1"), pl.col("cs0") - pl.col("cs1")
    bn, bs = (pl.col("cn1") - pl.col("cn2"), pl.col("cs1") - pl.col("cs2")) if base else (pl.lit(0.0), pl.lit(0.0))
    agg = {"count": (rn, bn), "sum": (rs, bs), "mean": (rs / rn, bs / bn)}[p.agg]
    looked = looked.with_columns(rn=rn, bn=bn, recent=agg[0], base=agg[1])
    head, figure = f"近{recent}日{noun}" + {"count": "", "sum": "累计", "mean": "均值"}[p.agg], _txt(pl.col("recent"))
    if p.factor is not None:
        per_day = p.agg != "mean"  # counts and sums compare daily rates, means compare means
        r_rate = pl.col("recent") / recent if per_day else pl.col("recent")
        b_rate = pl.col("base") / base if per_day else pl.col("base")
        fires = (r_rate > p.factor * b_rate if p.direction == "rise" else r_rate < p.factor * b_rate) & (
            pl.col("rn") >= (p.min_recent or 1)
        )
        fires &= pl.col("bn") > 0 if p.direction == "fall" or not per_day else True
        against = _text(f"，为前{base}日{'日均' if per_day else '均值'}的", _txt(pl.col("value")), "倍")
        against = pl.when(pl.col("value").is_null()).then(pl.lit(f"，前{base}日无记录")).otherwise(against)
        looked = looked.filter(fires).with_columns(value=pl.when(b_rate != 0).then(r_rate / b_rate))
        return looked.with_columns(threshold=pl.lit(p.factor), detail=_text(head, figure, shown, against))
    if p.above is not None:
        looked = looked.filter(pl.col("rn") >= (p.min_recent or 1), pl.col("recent") > p.above)
        said, limit = _text(head, figure, shown, f"，超过{_num(p.above)}{shown}"), p.above
    else:
        assert p.below is not None
        looked = looked.filter(pl.col("bn") > 0, pl.col("recent") < p.below)
        said, limit = _text(head, "仅", figure, shown, f"，低于{_num(p.below)}{shown}"), p.below
    return looked.with_columns(value=pl.col("recent"), threshold=pl.lit(limit), detail=said)


def _consecutive(rule: spec.ConsecutiveRule, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    """The trailing run of matching events as of each day, counting only the events of the last
    ``within_days``; same-day events keep the frame's order."""
    p = rule.params
    kept = pl.col("kind").eq(p.event) & pl.col("occurred_on").is_between(first - dt.timedelta(p.within_days - 1), last)
    ordered = f.events.filter(kept).with_row_index("seq").sort("entity_id", "occurred_on", "seq")
    ordered = ordered.with_columns(hit=(pl.col(p.field) == p.equals).fill_null(False))
    changed = (pl.col("hit") != pl.col("hit").shift(1)).fill_null(True)
    ordered = ordered.with_columns(
        run=changed.cum_sum().over("entity_id"), seen=pl.int_range(1, pl.len() + 1).over("entity_id")
    )
    in_run = pl.int_range(1, pl.len() + 1).over("entity_id", "run")
    runs = (
        ordered.with_columns(streak=pl.when(pl.col("hit")).then(in_run).otherwise(0))
        .group_by("entity_id", "occurred_on", maintain_order=True)
        .agg(pl.col("streak", "seen").last())
        .rename({"occurred_on": "day"})
    )
    asked = runs.select("entity_id").unique().join(_days(first, last), how="cross")
    matched = OUTCOMES.get(p.equals, p.equals) if p.field == "outcome" else f"为{p.equals}"
    detail = _text("最近连续", pl.col("streak").cast(pl.Utf8), f"次{p.label or label(p.event)}{matched}")
    streak = pl.min_horizontal("streak0", pl.col("seen0") - pl.col("seen1"))  # the run inside the window
    looked = _lookup(asked, runs, [0, p.within_days], ["streak", "seen"]).with_columns(streak=streak)
    looked = looked.filter(pl.col("streak") >= p.count)
    return looked.with_columns(value=pl.col("streak").cast(NUM), threshold=pl.lit(float(p.count)), detail=detail)


def _expiry(rule: spec.ExpiryRule, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    """Each item fires from due_on − days_before + 1 on (until due_on for a reminder); the earliest due
    item is the one shown."""
    p = rule.params
    items = f.attributes.filter(pl.col("attribute") == p.attribute, pl.col("due_on").is_not_null())
    items = items.with_columns(day=pl.col("due_on") - pl.duration(days=p.days_before - 1)).filter(pl.col("day") <= last)
    if p.include_past:  # open-ended: running count and earliest date, looked up as of each day
        running = [pl.col("k").cum_sum().over("entity_id").alias("items"), pl.col("due").cum_min().over("entity_id")]
        table = items.group_by("entity_id", "day").agg(k=pl.len(), due=pl.col("due_on").min())
        table = table.sort("entity_id", "day").select("entity_id", "day", *running)
        asked = table.select("entity_id").unique().join(_days(first, last), how="cross").with_columns(day="fired_on")
        active = _as_of(asked, table, "day").filter(pl.col("items").is_not_null())
    else:  # at most days_before days per item
        span = pl.date_ranges(pl.max_horizontal("day", pl.lit(first)), pl.min_horizontal("due_on", pl.lit(last)))
        active = items.filter(pl.col("due_on") >= first).with_columns(fired_on=span).explode("fired_on")
        active = active.group_by("entity_id", "fired_on").agg(items=pl.len(), due=pl.col("due_on").min())
    left = (pl.col("due") - pl.col("fired_on")).dt.total_days()
    overdue, remaining = _text("已逾期", (-left).cast(pl.Utf8), "日"), _text("还剩", left.cast(pl.Utf8), "日")
    state = pl.when(left < 0).then(overdue).when(left == 0).then(pl.lit("今日届满")).otherwise(remaining)
    more = pl.when(pl.col("items") > 1).then(_text("（共", pl.col("items").cast(pl.Utf8), "项）")).otherwise(pl.lit(""))
    detail = _text(f"{p.label or label(p.attribute)}至", pl.col("due").cast(pl.Utf8), "，", state, more)
    return active.with_columns(value=left.cast(NUM), threshold=pl.lit(float(p.days_before)), detail=detail)


def _period_end() -> pl.Expr:
    """The last day of a period written 2026, 2026Q3, 2026-10 or 2026-10-31 (null if written otherwise)."""
    s = pl.col("period").str.strip_chars()
    year = s.str.slice(0, 4).cast(pl.Int32, strict=False)
    month = (
        pl.when(s.str.contains(r"^\d{4}-\d{2}$"))
        .then(s.str.slice(5, 2).cast(pl.Int32, strict=False))
        .when(s.str.contains(r"^\d{4}Q[1-4]$"))
        .then(s.str.slice(5, 1).cast(pl.Int32, strict=False) * 3)
        .when(s.str.contains(r"^\d{4}$"))
        .then(pl.lit(12, pl.Int32))
    )
    valid = pl.when(month.is_between(1, 12)).then(month)
    return (
        pl.when(s.str.contains(r"^\d{4}-\d{2}-\d{2}$"))
        .then(s.str.to_date("%Y-%m-%d", strict=False))
        .otherwise(pl.date(year, valid, 1).dt.month_end())
    )


def _mismatch(rule: spec.MismatchRule, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    p = rule.params
    sides = [pl.col("value").filter(pl.col("metric") == m).last().alias(k) for k, m in (("l", p.left), ("r", p.right))]
    ratio = pl.when(pl.col("r") != 0).then(pl.col("l") / pl.col("r"))
    off = (
        pl.when(pl.col("r") == 0)
        .then(pl.col("l") > 0)
        .otherwise((pl.col("ratio") - p.expected).abs() > p.ratio_tolerance)
    )
    table = (
        f.periods.filter(pl.col("metric").is_in([p.left, p.right]))
        .group_by("entity_id", "period")
        .agg(*sides)
        .with_columns(end=_period_end())
        .drop_nulls(["l", "r", "end"])
        .with_columns(day=pl.col("end") + pl.duration(days=1), ratio=ratio)  # complete the day after it ends
        .filter(pl.col("day") <= last)
        .with_columns(off=off)
    )
    asked = table.select("entity_id").unique().join(_days(first, last), how="cross").with_columns(day="fired_on")
    left, right = label(p.left), label(p.right)
    expected = f"（预期{_num(p.expected)}±{_num(p.ratio_tolerance)}）"
    no_right = _text(pl.col("period"), f"{right}为0，{left}", _txt(pl.col("l")), unit(p.left))
    compared = _text(pl.col("period"), f"{left}与{right}之比为", _txt(pl.col("ratio"), 2), expected)
    detail = pl.when(pl.col("ratio").is_null()).then(no_right).otherwise(compared)
    fresh = (pl.col("fired_on") - pl.col("end")).dt.total_days() <= p.within_days
    looked = _as_of(asked, table, "day").filter(pl.col("off"), fresh)
    return looked.with_columns(value=pl.col("ratio"), threshold=pl.lit(p.expected), detail=detail)


def _level_change(rule: spec.LevelChangeRule, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    p = rule.params
    span = p.within_days - 1

    def rank(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(RANK, default=None, return_dtype=pl.Int64)

    def named(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(spec.LEVEL_NAMES, default=pl.col(column), return_dtype=pl.Utf8)

    kept = (rank("level_to") > rank("level_from")) & pl.col("changed_on").is_between(first - dt.timedelta(span), last)
    kept &= pl.col("level_to").eq(p.to) if p.to else True
    days = pl.date_ranges("changed_on", pl.col("changed_on") + pl.duration(days=span))
    changes = f.levels.filter(kept).with_columns(fired_on=days).explode("fired_on")
    changes = changes.filter(pl.col("fired_on").is_between(first, last)).sort("changed_on")
    detail = _text(pl.col("changed_on").cast(pl.Utf8), "风险等级由", named("level_from"), "升为", named("level_to"))
    return (
        changes.group_by("entity_id", "fired_on")
        .agg(pl.all().last())
        .with_columns(value=rank("level_to").cast(NUM), threshold=rank("level_from").cast(NUM), detail=detail)
    )


_KINDS: dict[type[Any], Any] = {spec.ThresholdRule: _threshold, spec.WindowRule: _window}
_KINDS |= {spec.ConsecutiveRule: _consecutive, spec.ExpiryRule: _expiry, spec.MismatchRule: _mismatch}
_KINDS |= {spec.LevelChangeRule: _level_change}


def fire(rule: RuleSpec, f: Frames, first: dt.date, last: dt.date) -> pl.LazyFrame:
    """The plan of every day in [first, last] on which ``rule`` fires for an entity (``FIRED`` columns)."""
    plan: pl.LazyFrame = _KINDS[type(rule)](rule, f, first, last)
    named = [pl.lit(rule.code).alias("rule_code"), pl.lit(rule.version, pl.Int64).alias("rule_version")]
    return plan.select(*named, *(pl.col(c).cast(t) for c, t in FIRED.items() if c not in ("rule_code", "rule_version")))


def evaluate(
    rules: Iterable[RuleSpec],
    *,
    as_of: dt.date,
    readings: Frame | None = None,
    events: Frame | None = None,
    attributes: Frame | None = None,
    periods: Frame | None = None,
    levels: Frame | None = None,
) -> pl.DataFrame:
    """One row per (rule, entity) firing on ``as_of``, with the version in force that day. Repeats are
    not suppressed here: ``suppress_repeats`` does that against the warnings already raised."""
    f = frames(readings=readings, events=events, attributes=attributes, periods=periods, levels=levels)
    plans = [fire(rule, f, as_of, as_of) for rule in spec.in_force(rules, as_of)]
    if not plans:
        return pl.DataFrame(schema=FIRED)
    return pl.concat(pl.collect_all(plans)).sort("rule_code", "entity_id")


def suppress_repeats(fired: pl.DataFrame, *, previous: pl.DataFrame, rules: Iterable[RuleSpec]) -> pl.DataFrame:
    """``fired`` without the rows whose rule already warned the entity within its ``dedup_days`` (at least
    the same day) — ``previous`` holds rule_code, entity_id, fired_on of the warnings raised before."""
    windows = (
        pl.DataFrame(
            [(r.code, r.dedup_days) for r in rules], schema={"rule_code": TEXT, "dedup_days": ID}, orient="row"
        )
        .group_by("rule_code")
        .max()
    )
    before = previous.select("rule_code", "entity_id", prev_on=pl.col("fired_on")).sort("prev_on")
    apart = (pl.col("fired_on") - pl.col("prev_on")).dt.total_days()
    fresh = pl.col("prev_on").is_null() | (apart >= pl.max_horizontal(pl.col("dedup_days").fill_null(0), 1))
    joined = fired.sort("fired_on").join_asof(
        before, left_on="fired_on", right_on="prev_on", by=["rule_code", "entity_id"], check_sortedness=False
    )
    return (
        joined.join(windows, on="rule_code", how="left")
        .filter(fresh)
        .select(fired.columns)
        .sort("rule_code", "entity_id")
    )


# --------------------------------------------------------------------------- back-test


@dataclass(frozen=True)
class Backtest:
    warnings: pl.DataFrame  # FIRED columns, plus outcome_on, outcome_kind, lead_days when outcomes are given
    summary: dict[str, Any]

    @property
    def count(self) -> int:
        return self.warnings.height


def first_in_each_window(fired: pl.DataFrame, days: int) -> pl.DataFrame:
    """The first firing per entity, then none for ``days`` days, then the next. A loop over rounds (at
    most span / days + 1), never over rows: each round keeps every entity's earliest remaining firing."""
    if days <= 1 or fired.is_empty():
        return fired
    remaining, kept = fired, []
    while remaining.height:
        earliest = remaining.group_by("entity_id").agg(kept_on=pl.col("fired_on").min())
        kept.append(remaining.join(earliest, left_on=["entity_id", "fired_on"], right_on=["entity_id", "kept_on"]))
        later = pl.col("fired_on") >= pl.col("kept_on") + pl.duration(days=days)
        remaining = remaining.join(earliest, on="entity_id").filter(later).drop("kept_on")
    return pl.concat(kept)


def _followed(warnings: pl.DataFrame, outcomes: Frame, horizon_days: int) -> pl.DataFrame:
    """Each warning's first outcome for the entity in the ``horizon_days`` after it (not the same day)."""
    found = _frame("outcomes", outcomes).select("entity_id", outcome_on="occurred_on", outcome_kind="kind")
    joined = (
        warnings.lazy()
        .sort("fired_on")
        .join_asof(
            found.sort("outcome_on"),
            left_on="fired_on",
            right_on="outcome_on",
            by="entity_id",
            strategy="forward",
            allow_exact_matches=False,
            tolerance=f"{horizon_days}d",
            check_sortedness=False,
        )
    )
    lead = (pl.col("outcome_on") - pl.col("fired_on")).dt.total_days()
    return joined.with_columns(lead_days=lead).sort("entity_id", "fired_on").collect()


def backtest(
    rule: RuleSpec,
    *,
    start: dt.date,
    end: dt.date,
    readings: Frame | None = None,
    events: Frame | None = None,
    attributes: Frame | None = None,
    periods: Frame | None = None,
    levels: Frame | None = None,
    outcomes: Frame | None = None,
    horizon_days: int = 30,
) -> Backtest:
    """The warnings ``rule`` would have raised on each day of [start, end] (whatever its effective dates:
    a draft is tested on history), with its dedup window applied; with ``outcomes``, each warning's first
    outcome in the ``horizon_days`` after it and the lead time. ``precision`` is the share of warnings
    followed by an outcome, ``lead_days_share_3_to_7`` the share of those that came 3 to 7 days ahead."""
    if end < start:
        raise Invalid("end", N_("The back-test ends on or after its start."))
    f = frames(readings=readings, events=events, attributes=attributes, periods=periods, levels=levels)
    warnings = first_in_each_window(fire(rule, f, start, end).collect(), rule.dedup_days).sort("entity_id", "fired_on")
    summary: dict[str, Any] = {"rule_code": rule.code, "rule_version": rule.version, "days": (end - start).days + 1}
    summary |= {"warnings": warnings.height, "entities": warnings["entity_id"].n_unique()}
    summary |= dict.fromkeys(("followed_by_outcome", "precision", "lead_days_median", "lead_days_share_3_to_7"))
    if outcomes is None:
        return Backtest(warnings, summary)
    warnings = _followed(warnings, outcomes, horizon_days)
    leads = warnings["lead_days"].drop_nulls()
    summary["followed_by_outcome"] = leads.len()
    if warnings.height:
        summary["precision"] = round(leads.len() / warnings.height, 4)
    if leads.len():
        summary["lead_days_median"] = float(leads.median())  # type: ignore[arg-type]
        summary["lead_days_share_3_to_7"] = round(float(leads.is_between(3, 7).mean()), 4)  # type: ignore[arg-type]
    return Backtest(warnings, summary)
