"""What every part of the synthetic risk history shares: the hidden ground truth's parameters and log-odds
(``_latent``), the per-entity seeded draws, the working-day arithmetic and the frame builders.

The ground truth itself is explained in ``risk/history.py``; this module holds its parts so that the
inspections (``history_inspections``), the feeds (``history_feeds``) and the readings and incidents
(``history_readings``) can draw from the same latent log-odds without importing ``history``, which
imports them. Nothing here is public outside these modules: callers use ``jianguan.risk.history``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from jianguan.core.workdays import WorkCalendar

F = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

SEED = 2026
YEARS = 3
EPOCH = dt.date(1970, 1, 1)
US = 1_000_000
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
SHANGHAI_US = 8 * HOUR_US  # local midnight is 16:00 UTC the day before
NEVER = 10**6  # an epoch day far in the future: "not (yet) happened"

# --------------------------------------------------------------------------- the ground truth's parts

INTERCEPT = -1.95
CENTER = -1.25  # the log-odds the signals' rates are centred on (near the registry's median)
HIDDEN_SD = 1.0  # management quality: lognormal, log-sd 1.0 — the part the registry does not show
COMPLAINT_WEIGHT = 0.5  # × log1p(valid complaints of the last year)
ABNORMAL = 0.7
CREDIT = {"A": -0.3, "B": 0.0, "C": 0.35, "D": 0.7, "": 0.1}  # a coarse, lagging grade: weaker than the score assumes
SCALE = {"micro": 0.35, "small": 0.1, "medium": -0.1, "large": -0.3, "": 0.0}  # small operators slip more
DRIFT_SD, DRIFT_KEEP = 0.45, 0.5  # yearly AR(1) drift of the log-odds
DETERRENCE = 0.5  # an entity that just failed fails again less often than its propensity alone says


@dataclass(frozen=True)
class Sector:
    prefixes: tuple[str, ...]  # GB/T 4754 codes the sector's industries start with
    effect: float  # on the propensity's log-odds
    rate: float  # routine inspections a year, on average (双随机 draws weight high-risk industries)
    checks: tuple[tuple[str, str, float], ...]  # (department suffix, catalog item, share of inspections)


# Longer prefixes first: the first sector whose prefix matches is the entity's. The effects are how often
# an industry's inspections find problems, which is not how much harm a violation does — the rule score's
# industry points weigh the harm, so the two disagree (restaurants slip often, chemical plants less so).
SECTORS: dict[str, Sector] = {
    "dangerous_goods": Sector(("5435",), 0.8, 0.5, (("JT", "33000004006000", 0.6), ("JT", "33000004002000", 0.4))),
    "food_retail": Sector(("5212", "5221", "5223"), 0.5, 0.2, (("SJ", "33000001003000", 1.0),)),
    "ecommerce": Sector(("5292",), -0.3, 0.1, (("SJ", "33000001012000", 0.5), ("SJ", "33000001010000", 0.5))),
    "chemical": Sector(("25", "26"), 0.5, 0.4, (("YJ", "33000003002000", 0.6), ("HB", "33000002003000", 0.4))),
    "transport": Sector(("54",), 0.6, 0.28, (("JT", "33000004002000", 0.6), ("JT", "33000004006000", 0.4))),
    "food_production": Sector(("13", "14", "15"), 0.7, 0.4, (("SJ", "33000001002000", 1.0),)),
    "catering": Sector(
        ("62",),
        0.8,
        0.24,
        (("SJ", "33000001001000", 0.7), ("YJ", "33000003005000", 0.15), ("CG", "33000006002000", 0.15)),
    ),
    "polluter": Sector(("27", "30", "46"), 0.4, 0.36, (("HB", "33000002001000", 0.6), ("HB", "33000002006000", 0.4))),
    "equipment": Sector(("34",), 0.3, 0.28, (("SJ", "33000001006000", 0.7), ("YJ", "33000003001000", 0.3))),
    "repair": Sector(("81",), 0.4, 0.2, (("JT", "33000004004000", 0.6), ("HB", "33000002009000", 0.4))),
    "bath": Sector(("80",), 0.4, 0.16, (("YJ", "33000003004000", 0.5), ("SJ", "33000001009000", 0.5))),
    "manufacturing": Sector(
        ("17", "18", "33"), 0.1, 0.15, (("SJ", "33000001008000", 0.5), ("YJ", "33000003001000", 0.5))
    ),
    "retail": Sector(("52",), 0.2, 0.12, (("SJ", "33000001009000", 0.6), ("SJ", "33000001008000", 0.4))),
    "other": Sector((), 0.0, 0.12, (("SJ", "33000001009000", 1.0),)),
}
FALLBACK_ITEM = "33000001009000"  # what the market bureau checks when no other department is there
FOOD = ("food_production", "food_retail", "catering")
WORK_SAFETY = ("chemical", "dangerous_goods", "transport")


def _sigmoid(x: F) -> F:
    out: F = 1.0 / (1.0 + np.exp(-x))
    return out


def _uniform(ids: I64, seed: int, salt: int) -> F:
    """A uniform in (0, 1) per id (splitmix64): an entity keeps its draw whoever else is in the registry."""
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= np.uint64((seed * 1_000_003 + salt * 7919) % 2**64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    out: F = ((x >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    return out


def _normal(ids: I64, seed: int, salt: int) -> F:
    out: F = np.sqrt(-2.0 * np.log(_uniform(ids, seed, salt))) * np.cos(2 * np.pi * _uniform(ids, seed, salt + 500))
    return out


def _sector() -> pl.Expr:
    code = pl.col("industry_code").fill_null("")
    expr: pl.Expr = pl.lit("other")
    for name, sector in reversed(SECTORS.items()):
        for prefix in sector.prefixes:
            expr = pl.when(code.str.starts_with(prefix)).then(pl.lit(name)).otherwise(expr)
    return expr


def _latent(entities: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The registry frame sorted by id with ``sector``, the log-odds ``logit`` and the drifts ``drift_0..2``.

    Needs entity_id, region_code, industry_code, scale, credit_class, kind, abnormal; optional
    complaints (valid ones of the last year) and established_on."""
    frame = entities.cast(
        {
            "entity_id": pl.Int64,
            "region_code": pl.Utf8,
            "industry_code": pl.Utf8,
            "scale": pl.Utf8,
            "credit_class": pl.Utf8,
            "kind": pl.Utf8,
            "abnormal": pl.Boolean,
        }
    )
    frame = frame.sort("entity_id").with_columns(
        _sector().alias("sector"),
        pl.col("scale").fill_null(""),
        pl.col("credit_class").fill_null(""),
        pl.col("abnormal").fill_null(False),
    )
    ids = frame["entity_id"].to_numpy().astype(np.int64)
    complaints = (
        frame["complaints"].fill_null(0).to_numpy().astype(np.float64)
        if "complaints" in frame.columns
        else np.zeros(frame.height)
    )
    hidden = HIDDEN_SD * _normal(ids, seed, 1) + COMPLAINT_WEIGHT * np.log1p(complaints)
    effect = pl.col("sector").replace_strict({k: s.effect for k, s in SECTORS.items()}, return_dtype=pl.Float64)
    observed = (
        frame.select(
            effect
            + pl.col("scale").replace_strict(SCALE, default=0.0, return_dtype=pl.Float64)
            + pl.col("credit_class").replace_strict(CREDIT, default=CREDIT[""], return_dtype=pl.Float64)
            + pl.col("abnormal").cast(pl.Float64) * ABNORMAL
        )
        .to_series()
        .to_numpy()
    )
    drifts = [DRIFT_SD * _normal(ids, seed, 2)]
    for k in range(1, YEARS):
        drifts.append(DRIFT_KEEP * drifts[-1] + DRIFT_SD * np.sqrt(1 - DRIFT_KEEP**2) * _normal(ids, seed, 2 + k))
    established = (
        frame["established_on"].cast(pl.Int64).fill_null(-NEVER).to_numpy()
        if "established_on" in frame.columns
        else np.full(frame.height, -NEVER)
    )
    return frame.with_columns(
        pl.Series("logit", INTERCEPT + observed + hidden),
        pl.Series("established", established, pl.Int64),
        *(pl.Series(f"drift_{k}", d) for k, d in enumerate(drifts)),
    )


def _in(latent: pl.DataFrame, sectors: Collection[str], *, enterprise: bool = False) -> I64:
    mask = latent["sector"].is_in(list(sectors))
    if enterprise:
        mask = mask & (latent["kind"] == "enterprise")
    out: I64 = np.flatnonzero(mask.to_numpy())
    return out


def _z(latent: pl.DataFrame, rows: I64, year: int | I64 = YEARS - 1) -> F:
    """Centred log-odds in a year of the history (the last by default): what drives the signals' rates."""
    drift = np.stack([latent[f"drift_{k}"].to_numpy() for k in range(YEARS)], axis=1)
    out: F = latent["logit"].to_numpy()[rows] + drift[rows, year] - CENTER
    return out


# --------------------------------------------------------------------------- days


@dataclass(frozen=True)
class _Days:
    """Working days around the history, as epoch-day arrays, for vectorised date arithmetic."""

    first: int
    rank: I64  # working days up to and including each day
    workdays: I64  # the working days themselves

    @classmethod
    def around(cls, today: dt.date, calendar: WorkCalendar | None) -> _Days:
        calendar = calendar or WorkCalendar()
        start = today - dt.timedelta(days=YEARS * 365 + 90)
        n = YEARS * 365 + 90 + 500
        working = np.array([calendar.is_working_day(start + dt.timedelta(days=i)) for i in range(n)])
        first = (start - EPOCH).days
        return cls(first, np.cumsum(working).astype(np.int64), (np.flatnonzero(working) + first).astype(np.int64))

    def _before(self, day: I64) -> I64:
        """How many working days come before ``day`` (the index of the first working day ≥ day)."""
        out: I64 = self.rank[np.clip(day - self.first - 1, 0, len(self.rank) - 1)]
        return out

    def next_working(self, day: I64) -> I64:
        out: I64 = self.workdays[self._before(day)]
        return out

    def add_working(self, day: I64, n: I64) -> I64:
        out: I64 = self.workdays[self._before(day + 1) + n - 1]
        return out

    def working_before(self, day: I64, n: I64) -> I64:
        out: I64 = self.workdays[self._before(day) - n]
        return out

    def pick(self, rng: np.random.Generator, lo: I64, hi: I64) -> tuple[I64, B]:
        """A random working day in [lo, hi) each; ``ok`` is False where there is none."""
        a, b = self._before(lo), self._before(hi)
        idx = a + np.floor(rng.random(len(lo)) * np.maximum(b - a, 0)).astype(np.int64)
        ok: B = b > a
        out: I64 = self.workdays[np.minimum(idx, len(self.workdays) - 1)]
        return out, ok


def _day(today: dt.date) -> int:
    return (today - EPOCH).days


def _instant(day: I64, hours: F) -> I64:
    """Local (Asia/Shanghai) day and hour → UTC microseconds."""
    out: I64 = day * DAY_US + (hours * HOUR_US).astype(np.int64) - SHANGHAI_US
    return out


def _dates(days: I64) -> pl.Series:
    return pl.Series(days.astype(np.int64)).cast(pl.Int32).cast(pl.Date)


def _instants(us: I64) -> pl.Series:
    return pl.Series(us.astype(np.int64)).cast(pl.Datetime("us", "UTC"))


def _table(**columns: Any) -> pl.DataFrame:
    """A frame of arrays and constants: the constants broadcast, and keep their type when there are no rows."""
    arrays = {k: v for k, v in columns.items() if isinstance(v, np.ndarray | pl.Series)}
    constants = [pl.lit(v).alias(k) for k, v in columns.items() if k not in arrays]
    return pl.DataFrame(arrays).with_columns(constants).select(list(columns))
