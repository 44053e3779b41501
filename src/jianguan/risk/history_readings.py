"""The synthetic history's sensor readings (cold chain, emissions, monthly electricity) and its handful
of incidents (major accidents, serious environmental violations).

Its own module because readings are sensor series judged against the shipped sensor limits and
incidents are rare events picked among the highest propensities, neither of them feed records, and the
history would otherwise outgrow a module. Public through ``jianguan.risk.history`` (``readings``,
``incidents``, ``sensor_limits``, ``generate``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from jianguan.risk import scoring
from jianguan.risk.history_base import (
    CENTER,
    HOUR_US,
    I64,
    SEED,
    US,
    F,
    _day,
    _in,
    _instant,
    _instants,
    _latent,
    _sigmoid,
    _table,
    _z,
)
from jianguan.risk.history_feeds import _declared

COLD_CHAIN, EMITTERS = 150, 100  # series: a month of them stays a few hundred thousand rows
EMISSIONS = (
    ("27", ("cod_mg_l",)),
    ("46", ("cod_mg_l",)),
    ("30", ("so2_mg_m3", "nox_mg_m3")),
    ("2", ("cod_mg_l", "nox_mg_m3")),
)  # by industry prefix: chemicals (25, 26) last
UNITS = {"cold_chain_temp": "℃", "cod_mg_l": "mg/L", "so2_mg_m3": "mg/m³", "nox_mg_m3": "mg/m³"}
READING_SCHEMA = pl.Schema(
    {
        "entity_id": pl.Int64(),
        "metric": pl.Utf8(),
        "measured_at": pl.Datetime("us", "UTC"),
        "value": pl.Float64(),
        "unit": pl.Utf8(),
    }
)


def sensor_limits() -> dict[str, float]:
    """The sensor limits of the latest shipped score rule set: an excursion is a reading beyond them."""
    limits = scoring.shipped_rule_sets()[-1]["sensor_limits"]
    return {metric: float(limit["gt"]) for metric, limit in limits.items() if "gt" in limit}


def _series(
    rows: I64,
    metric: str,
    start_us: int,
    step_us: int,
    steps: int,
    normal: F,
    high: tuple[float, float],
    episodes: I64,
    longest: int,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Readings of one metric for each row: ``normal`` (rows × steps) with ``episodes`` excursions each."""
    values = normal.copy()
    for i in np.flatnonzero(episodes):
        for _ in range(int(episodes[i])):
            at = int(rng.integers(0, steps - longest))
            values[i, at : at + int(rng.integers(1, longest + 1))] = rng.uniform(*high)
    when = start_us + np.arange(steps, dtype=np.int64) * step_us
    return _table(
        entity_id=np.repeat(rows, steps),
        metric=metric,
        measured_at=_instants(np.tile(when, len(rows))),
        value=np.round(values.ravel(), 2),
        unit=UNITS[metric],
    )


def readings(entities: pl.DataFrame, *, today: dt.date, seed: int = SEED) -> pl.DataFrame:
    """Cold-chain temperatures every 30 minutes and emissions hourly for the last 30 days, excursions more
    frequent the worse the entity; monthly electricity use (cross-checked in ``feeds``)."""
    latent = _latent(entities, seed)
    rng = np.random.default_rng([seed, 4])
    limits = sensor_limits()
    start = int(_instant(np.array([_day(today) - 30]), np.zeros(1))[0])
    sector = latent["sector"].to_numpy()
    big = latent["scale"].is_in(["medium", "large"]).to_numpy()
    pool = np.union1d(_in(latent, ["food_production", "food_retail"]), np.flatnonzero(big & (sector == "catering")))
    cold = np.sort(rng.choice(pool, min(COLD_CHAIN, len(pool)), replace=False)).astype(np.int64)
    steps = 30 * 48
    cycle = 0.6 * np.sin(2 * np.pi * np.arange(steps) / 12)  # defrosting every six hours
    normal = rng.uniform(2.0, 4.5, (len(cold), 1)) + cycle + rng.normal(0, 0.3, (len(cold), steps))
    limit = limits["cold_chain_temp"]
    parts = [
        _series(
            cold,
            "cold_chain_temp",
            start,
            30 * 60 * US,
            steps,
            normal,
            (limit + 0.5, limit + 5.5),
            np.minimum(rng.poisson(0.5 * np.exp(1.3 * _z(latent, cold))), 10),
            8,
            rng,
        )
    ]
    pool = _in(latent, ["polluter", "chemical"], enterprise=True)
    emitters = np.sort(rng.choice(pool, min(EMITTERS, len(pool)), replace=False)).astype(np.int64)
    industry = latent["industry_code"].fill_null("").to_numpy()[emitters]
    for prefix, metrics in EMISSIONS:
        mine = np.array([str(code).startswith(prefix) for code in industry], dtype=bool)
        rows, industry = emitters[mine], industry[~mine]
        emitters = emitters[~mine]
        for metric in metrics:
            limit = limits[metric]
            normal = limit * rng.uniform(0.3, 0.65, (len(rows), 1)) * rng.lognormal(0, 0.12, (len(rows), 24 * 30))
            parts.append(
                _series(
                    rows,
                    metric,
                    start,
                    HOUR_US,
                    24 * 30,
                    normal,
                    (limit * 1.05, limit * 1.8),
                    np.minimum(rng.poisson(0.6 * np.exp(1.2 * _z(latent, rows))), 10),
                    6,
                    rng,
                )
            )
    parts.append(_declared(latent, today, seed)[1])
    ids = latent["entity_id"].to_numpy()
    rows = [p.select(list(READING_SCHEMA)).cast(READING_SCHEMA) for p in parts]
    out: pl.DataFrame = pl.concat(
        [p.with_columns(pl.Series("entity_id", ids[p["entity_id"].to_numpy()])) for p in rows]
    )
    return out


INCIDENTS = 6
INCIDENT_KINDS = {  # sector → (kind, severities and their chances, source, description)
    "chemical": (
        "major_accident",
        (("major", 0.4), ("serious", 0.6)),
        "应急管理部门通报",
        "储罐区发生危险化学品泄漏并引发火灾，造成人员受伤",
    ),
    "dangerous_goods": (
        "major_accident",
        (("serious", 1.0),),
        "交通运输部门通报",
        "危险货物运输车辆发生侧翻事故，货物泄漏",
    ),
    "transport": ("major_accident", (("serious", 1.0),), "交通运输部门通报", "营运车辆发生较大道路交通事故"),
    "polluter": (
        "serious_environmental",
        (("serious", 1.0),),
        "生态环境部门通报",
        "通过暗管偷排未经处理的生产废水，被生态环境部门查处",
    ),
}


def incidents(entities: pl.DataFrame, *, today: dt.date, seed: int = SEED) -> pl.DataFrame:
    """A handful of major accidents and serious environmental violations in the last year, at the entities
    of dangerous sectors whose current propensity is highest. ``red_until`` is left to the writer (rule set)."""
    latent = _latent(entities, seed)
    rng = np.random.default_rng([seed, 6])
    pool = _in(latent, list(INCIDENT_KINDS))
    top = pool[np.argsort(-_z(latent, pool), kind="stable")[: max(INCIDENTS * 6, len(pool) // 100)]]
    weight = _sigmoid(_z(latent, top) + CENTER)
    chosen = (
        np.sort(rng.choice(top, min(INCIDENTS, len(top)), replace=False, p=weight / weight.sum())) if len(top) else top
    )
    rows = []
    for r in chosen:
        kind, severities, source, text = INCIDENT_KINDS[str(latent["sector"][int(r)])]
        severity = str(rng.choice([s for s, _ in severities], p=[p for _, p in severities]))
        rows.append(
            (
                int(latent["entity_id"][int(r)]),
                str(latent["region_code"][int(r)]),
                kind,
                severity,
                today - dt.timedelta(days=int(rng.integers(5, 360))),
                source,
                text,
            )
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "entity_id": pl.Int64,
            "region_code": pl.Utf8,
            "kind": pl.Utf8,
            "severity": pl.Utf8,
            "occurred_on": pl.Date,
            "source": pl.Utf8,
            "description": pl.Utf8,
        },
        orient="row",
    )
    at = frame.select(pl.col("occurred_on").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=2)).to_series()
    return frame.with_columns(
        pl.lit(None, pl.Date).alias("red_until"),
        pl.lit("").alias("withdrawn_reason"),
        pl.lit(None, pl.Int64).alias("recorded_by"),
        at.alias("created_at"),
        at.alias("updated_at"),
        pl.lit(1).alias("version"),
    )
