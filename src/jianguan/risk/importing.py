"""Import kind ``readings`` (sensor / IoT readings), and the column programs it shares with the
``feeds`` kind (``risk/feed_import.py``): instants, catalogue codes, registry lookups, data scope.

A reading is keyed by (entity, metric, instant), the instant compared in UTC, so ``08:30`` (Beijing
time) and ``00:30Z`` are the same reading: a file sent twice adds nothing, and a re-sent reading with
another value or unit replaces the stored one. Checks are column expressions over the slice, against
the metric catalogue (``risk/metrics.py``); USCCs are looked up in the registry once per slice
(``check_registry``). Rows are written through a temporary staging table (``COPY`` on PostgreSQL) and
two set-based statements — never one object per reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

import polars as pl
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from jianguan.auth.models import DataScope, User
from jianguan.auth.scope import visible
from jianguan.core.bulkload import load_frame, one_of, select_frame
from jianguan.core.i18n import N_
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.imports.checks import (
    DIMENSION_OF,
    ERROR,
    MESSAGES,
    PY_SPACE,
    Context,
    Field,
    Found,
    Problems,
    blank,
    stripped,
)
from jianguan.risk.metrics import catalogue
from jianguan.risk.models import Reading

MESSAGES.update(
    {
        "uscc.unknown": N_("No supervised entity with this USCC is registered."),
        "metric.unknown": N_("Not a metric of the metric catalogue (give its code or Chinese name)."),
        "metric.declared": N_("This metric is a declared figure: import it as a feed of kind declared."),
        "reading.time": N_("Not a date and time (2026-10-05T08:30:00+08:00; Beijing time when no zone is given)."),
        "reading.future": N_("The time is in the future."),
        "value.range": N_("Outside the plausible range of the metric ({min} to {max} {unit})."),
        "unit.mismatch": N_("The metric is measured in {unit}."),
    }
)
DIMENSION_OF.update(
    {
        "uscc.unknown": "consistency",
        "unit.mismatch": "consistency",
        "metric.declared": "consistency",
    }
)
TOLERATED = ("name", "entity_name")  # exports often carry the entity's name: not needed, not an error
FUTURE_SLACK = dt.timedelta(minutes=5)  # clocks of connected systems run a little ahead
USCC = stripped("uscc").str.to_uppercase()

KIND = "readings"
KEY = "uscc"  # problems about the row's entity are reported here; the key itself is KEY_VALUE
FIELDS: tuple[Field, ...] = (
    Field("uscc", "统一社会信用代码", "uscc", True),
    Field("metric", "监测指标", required=True, help="指标代码或名称，见指标目录（cold_chain_temp 冷链温度 …）"),
    Field(
        "measured_at",
        "监测时间",
        "datetime",
        True,
        help="ISO 8601，带时区如 2026-10-05T08:30:00+08:00；不带时区按北京时间",
    ),
    Field("value", "监测值", "decimal", True, help="须在指标目录的合理范围内"),
    Field("unit", "单位", help="可留空；填写时须与指标目录的单位一致"),
)


# --------------------------------------------------------------------------- shared column programs


INSTANT_RE = (
    r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})"
    r"(?:[.,]([0-9]{1,6})[0-9]*)?)?)? ?(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)


def instants(text: pl.Expr, *, default_offset_minutes: int = 480) -> pl.Expr:
    """ISO 8601 text → Datetime(us, UTC); null when not a real date and time. Accepts ``T`` or a
    space, ``/`` in the date, seconds and fractions optional, a zone ``Z``/``±HH``/``±HH:MM``; without
    a zone the time is local at ``default_offset_minutes`` (Beijing: +480). A date alone is midnight.

    Column-wise on the whole batch; the pattern is matched once (as one expression, each part would
    match it again: 3.4 s instead of 1.3 s per million values)."""
    return text.map_batches(
        lambda values: _instants(values, default_offset_minutes),
        return_dtype=pl.Datetime("us", "UTC"),
        is_elementwise=True,
    )


def _instants(values: pl.Series, default_offset_minutes: int) -> pl.Series:
    parts = values.str.strip_chars(PY_SPACE).str.extract_groups(INSTANT_RE).struct.unnest()

    def part(name: str, width: int) -> pl.Expr:
        return pl.col(name).fill_null("0").str.pad_start(width, "0")

    local = pl.concat_str(
        [part("1", 4), pl.lit("-"), part("2", 2), pl.lit("-"), part("3", 2), pl.lit(" "), part("4", 2), pl.lit(":"),
         part("5", 2), pl.lit(":"), part("6", 2), pl.lit("."), pl.col("7").fill_null("0").str.pad_end(6, "0")]
    )  # fmt: skip
    zone = pl.col("8")
    digits = zone.str.replace(":", "", literal=True)  # Z, ±HH, ±HHMM
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).str.pad_end(2, "0").cast(pl.Int64, strict=False)
    offset = (
        pl.when(zone.is_null())
        .then(pl.lit(default_offset_minutes, pl.Int64))
        .when(zone.str.to_uppercase() == "Z")
        .then(pl.lit(0, pl.Int64))
        .when(hours <= 14)
        .then(pl.when(zone.str.starts_with("-")).then(-1).otherwise(1) * (hours * 60 + minutes))
    )
    moment = local.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S.%6f", strict=False)  # Polars' fast path
    utc = pl.when(pl.col("1").is_not_null() & offset.is_not_null()).then(
        (moment - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")
    )
    return parts.select(utc.alias(values.name)).to_series()


def _coded(expr: pl.Expr, lookup: dict[str, str]) -> pl.Expr:
    """Code of a value matched by its lower-cased, stripped text (null when unknown or blank)."""
    return (
        expr.fill_null("")
        .str.strip_chars(PY_SPACE)
        .str.to_lowercase()
        .replace_strict(lookup, default=None, return_dtype=pl.String)
    )


def metric_code(expr: pl.Expr) -> pl.Expr:
    return _coded(expr, catalogue().metric_lookup())


def unit_code(expr: pl.Expr) -> pl.Expr:
    return _coded(expr, catalogue().unit_lookup())


def kind_code(expr: pl.Expr) -> pl.Expr:
    return _coded(expr, catalogue().kind_lookup())


def number(key: str) -> pl.Expr:
    return stripped(key).cast(pl.Float64, strict=False)


def metric_checks(metric: pl.Expr, source: str, value: str, unit: str) -> Found:
    """Range and unit of every catalogue metric of ``source`` (one mask per metric, not per row)."""
    found: Found = []
    for m in catalogue().metrics:
        if source not in m.sources:
            continue
        this = metric == m.code
        v = number(value)
        found.append(
            (
                this & ((v < m.min) | (v > m.max)),
                value,
                "value.range",
                ERROR,
                {"min": f"{m.min:g}", "max": f"{m.max:g}", "unit": m.unit[0]},
            )
        )
        found.append(
            (
                this & ~blank(unit) & ~unit_code(pl.col(unit)).is_in(list(m.unit)).fill_null(False),
                unit,
                "unit.mismatch",
                ERROR,
                {"unit": " / ".join(m.unit)},
            )
        )
    return found


def entities_of(db: Session, usccs: pl.Series) -> pl.DataFrame:
    """``uscc`` (upper-cased) → ``entity_id`` for the registered ones among ``usccs``."""
    keys = [u for u in usccs.drop_nulls().str.strip_chars(PY_SPACE).str.to_uppercase().unique().to_list() if u]
    if not keys:
        return pl.DataFrame(schema={"uscc": pl.String, "entity_id": pl.Int64})
    return select_frame(
        db,
        select(Entity.uscc, Entity.id).where(one_of(db, Entity.uscc, keys)),
        {"uscc": pl.String, "entity_id": pl.Int64},
    )


def check_registry(db: Session, df: pl.DataFrame, problems: Problems) -> None:
    """Every USCC must name a registered entity."""
    known = entities_of(db, df.get_column("uscc")).get_column("uscc").implode()
    problems.add(df, (USCC != "") & ~USCC.is_in(known), "uscc", "uscc.unknown")


def out_of_scope(db: Session, frame: pl.DataFrame, actor: User) -> pl.Series:
    """Rows about a registered entity the actor may not see (its data scope)."""
    if actor.data_scope == DataScope.all.value or frame.height == 0:
        return pl.Series("out", [False] * frame.height)
    known = entities_of(db, frame.get_column("uscc"))
    ids = known.get_column("entity_id").to_list()
    seen = (
        [u for u in db.scalars(select(Entity.uscc).where(one_of(db, Entity.id, ids), visible(Entity, actor))) if u]
        if ids
        else []
    )
    hidden = known.filter(~pl.col("uscc").is_in(pl.Series(seen, dtype=pl.String).implode())).get_column("uscc")
    return frame.select(USCC.is_in(hidden.implode()).alias("out")).to_series()


def batch_id_of(batch: str) -> int | None:
    return int(batch) if batch.isdigit() else None


# --------------------------------------------------------------------------- the readings kind

KEY_VALUE = pl.concat_str(
    [USCC, metric_code(pl.col("metric")), instants(pl.col("measured_at")).dt.epoch("us").cast(pl.String)], separator="|"
)


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """Metric known and sent by sensors, a real instant not in the future, value in range, unit."""
    declared = [m.code for m in catalogue().metrics if "readings" not in m.sources]
    metric, moment = metric_code(pl.col("metric")), instants(pl.col("measured_at"))
    found: Found = [
        (~blank("metric") & metric.is_null(), "metric", "metric.unknown", ERROR, {}),
        (metric.is_in(declared), "metric", "metric.declared", ERROR, {}),
        (~blank("measured_at") & moment.is_null(), "measured_at", "reading.time", ERROR, {}),
        (
            moment > pl.lit(utcnow() + FUTURE_SLACK, pl.Datetime("us", "UTC")),
            "measured_at",
            "reading.future",
            ERROR,
            {},
        ),
        *metric_checks(metric, "readings", "value", "unit"),
    ]
    problems.add_many(df, found)


READINGS_TABLE = cast(Table, Reading.__table__)
STAGE = Table(
    "import_stage_readings",
    MetaData(),
    Column("entity_id", Integer),
    Column("metric", String(32)),
    Column("measured_at", DateTime(timezone=True)),
    Column("value", Float),
    Column("unit", String(16)),
    Column("batch_id", Integer),
    Column("key", Text),
    prefixes=["TEMPORARY"],
)
_MATCH = and_(
    Reading.entity_id == STAGE.c.entity_id, Reading.metric == STAGE.c.metric, Reading.measured_at == STAGE.c.measured_at
)


def _stage(db: Session, rows: pl.DataFrame) -> None:
    """The rows in the (per-connection, emptied) temporary staging table."""
    connection = db.connection()
    connection.execute(CreateTable(STAGE, if_not_exists=True))
    connection.exec_driver_sql(f"DELETE FROM {STAGE.name}")
    load_frame(db, STAGE, rows)


@contextmanager
def _probing(db: Session) -> Iterator[None]:
    """PostgreSQL: join a slice to the readings by probing their index, never by hashing or sorting
    the whole table once per slice (what the planner picks otherwise: 1M readings were scanned for
    each 50,000-row slice). LOCAL to the transaction, and set back after."""
    connection = db.connection()
    pg = connection.dialect.name == "postgresql"
    if pg:
        connection.exec_driver_sql(f"ANALYZE {STAGE.name}")
        connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
        connection.exec_driver_sql("SET LOCAL enable_mergejoin = off")
    yield
    if pg:
        connection.exec_driver_sql("SET LOCAL enable_hashjoin = on")
        connection.exec_driver_sql("SET LOCAL enable_mergejoin = on")


def _reading_rows(db: Session, frame: pl.DataFrame, batch_id: int | None) -> pl.DataFrame:
    cat = catalogue()
    defaults = {m.code: m.unit[0] for m in cat.metrics}
    rows = frame.select(
        USCC.alias("uscc"),
        metric_code(pl.col("metric")).alias("metric"),
        instants(pl.col("measured_at")).alias("measured_at"),
        number("value").alias("value"),
        unit_code(pl.col("unit")).alias("unit"),
    )
    rows = rows.with_columns(
        pl.col("unit").fill_null(pl.col("metric").replace_strict(defaults, default="")),
        pl.lit(batch_id, pl.Int64).alias("batch_id"),
    )
    return rows.join(entities_of(db, rows.get_column("uscc")), on="uscc").drop("uscc")


def write(
    db: Session,
    frame: pl.DataFrame,
    *,
    actor: User | None,
    batch: str,
    source: str = "",
    as_of: dt.datetime | None = None,
) -> tuple[int, int]:
    """Checked rows in: changed readings updated, new ones inserted; → (created, updated)."""
    rows = _reading_rows(db, frame, batch_id_of(batch))
    if rows.height == 0:
        return 0, 0
    _stage(db, rows.select("entity_id", "metric", "measured_at", "value", "unit", "batch_id"))
    table = READINGS_TABLE
    changed = (
        update(table)
        .where(_MATCH, or_(Reading.value != STAGE.c.value, Reading.unit != STAGE.c.unit))
        .values(value=STAGE.c.value, unit=STAGE.c.unit, batch_id=STAGE.c.batch_id)
    )
    columns = ("entity_id", "metric", "measured_at", "value", "unit", "batch_id")
    added = (
        insert(table)
        .from_select(list(columns), select(*(STAGE.c[c] for c in columns)).where(~exists().where(_MATCH)))
        .execution_options(preserve_rowcount=True)
    )  # else -1 for an INSERT on PostgreSQL
    with _probing(db):
        updated = db.execute(changed).rowcount or 0  # type: ignore[attr-defined]
        created = db.execute(added).rowcount or 0  # type: ignore[attr-defined]
    return max(created, 0), max(updated, 0)


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    """Which ``uscc|metric|epoch-µs`` keys are stored readings already (the preview's updates)."""
    parts = (
        pl.DataFrame({"key": list(keys)}, schema={"key": pl.String})
        .with_columns(pl.col("key").str.split_exact("|", 2).struct.rename_fields(["uscc", "metric", "us"]).alias("p"))
        .unnest("p")
    )
    parts = parts.join(entities_of(db, parts.get_column("uscc")), on="uscc")
    if parts.height == 0:
        return set()
    parts = parts.with_columns(
        pl.col("us").cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("measured_at")
    )
    lo, hi = parts.get_column("measured_at").min(), parts.get_column("measured_at").max()
    any_stored = db.scalar(
        select(Reading.id)
        .where(
            one_of(db, Reading.entity_id, parts.get_column("entity_id").unique().to_list()),
            Reading.measured_at >= lo,
            Reading.measured_at <= hi,
        )
        .limit(1)
    )
    if any_stored is None:  # a first load of these entities and times: nothing to match
        return set()
    _stage(db, parts.select("entity_id", "metric", "measured_at", "key"))
    with _probing(db):
        return set(db.scalars(select(STAGE.c.key).where(exists().where(_MATCH))))


def registry_empty(db: Session) -> bool:
    """No reading stored yet: the preview need not look any key up."""
    return db.scalar(select(Reading.id).limit(1)) is None
