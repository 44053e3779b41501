"""The synthetic province's risk history, drawn from a hidden ground truth (pure: numpy and Polars, no DB).

Every entity has a latent **propensity to violate** (``truth``): its log-odds add what the registry shows
(industry, scale, credit class, the abnormal-operations list) to a component it does not show — the
entity's management quality, lognormal, stable per entity and seed. The same log-odds, plus a yearly
drift, drive every signal written here: inspection results, rectification delays, sampling failures,
missed drills, fire-system faults, overdue equipment, hidden dangers, public opinion, sensor
exceedances and the electricity-versus-declared-output mismatches. So a model that combines the
signals can recover part of the hidden component and beat the fixed-weight rule score, but only
partly: every signal is noisy and the drift moves the target year by year.

The ground truth is **never written to the database**: ``risk/demo.py`` writes only the history, and
the learned model's training and evaluation must read only the tables. Tests and benchmarks may call
``truth`` to check that what the model finds is real.

The complaints of the demo's year (collab) exist before this history; when the registry frame carries
each entity's count of valid complaints, the hidden component is drawn conditioned on it (more
complaints, worse management), which is how complaints come to carry the same signal.

Feed records use the vocabulary of the feeds import (docs/feeds.md, risk/data/metrics.yaml): ``sampling``
pass/fail, ``opinion`` negative/neutral, ``drill`` and ``training`` done/missed, ``fire_system`` ok/fault,
``equipment_inspection`` (``due_on``: the next statutory inspection, past for some), ``hidden_danger``
open/closed, and ``declared`` monthly ``declared_output`` (t; 0 for a month declared stopped). Readings:
``cold_chain_temp`` every 30 minutes and ``cod_mg_l`` / ``so2_mg_m3`` / ``nox_mg_m3`` hourly for the last
30 days, ``electricity_kwh`` monthly (the month's use, at its first instant). The cross-check records
are not drawn here: the cross-check job (risk/feeds.py) finds them in the declared and metered figures
— plants producing while declared stopped, or declaring a fraction of their output.

Time-varying parts: a yearly AR(1) drift of the log-odds, and deterrence — right after a failed
inspection an entity fails less often than its propensity alone says (it has just rectified), though
it still fails more often than one that passed.

This module keeps the public entry points (``truth``, ``generate``, ``History`` and the parts' functions,
re-exported); the parts live beside it: ``history_base`` (the ground truth's parameters and log-odds,
working days), ``history_inspections``, ``history_feeds`` and ``history_readings`` (readings, incidents).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import polars as pl

from jianguan.core.workdays import WorkCalendar
from jianguan.risk.history_base import SEED, YEARS, _latent
from jianguan.risk.history_feeds import feeds, months
from jianguan.risk.history_inspections import inspections
from jianguan.risk.history_readings import incidents, readings, sensor_limits

__all__ = [
    "SEED",
    "YEARS",
    "History",
    "feeds",
    "generate",
    "incidents",
    "inspections",
    "months",
    "readings",
    "sensor_limits",
    "truth",
]


def truth(entities: pl.DataFrame, *, seed: int = SEED) -> pl.DataFrame:
    """entity_id, propensity (0–1): the hidden ground truth. Never written to the database."""
    latent = _latent(entities, seed)
    return latent.select("entity_id", (1.0 / (1.0 + (-pl.col("logit")).exp())).alias("propensity"))


@dataclass(frozen=True)
class History:
    """Everything the demo writes, as frames with the tables' columns (see each function)."""

    inspections: pl.DataFrame
    findings: pl.DataFrame
    feeds: pl.DataFrame
    readings: pl.DataFrame
    incidents: pl.DataFrame


def generate(
    entities: pl.DataFrame,
    *,
    today: dt.date,
    seed: int = SEED,
    points: pl.DataFrame | None = None,
    calendar: WorkCalendar | None = None,
    agencies: Collection[str] | None = None,
    taken: Mapping[str, int] | None = None,
) -> History:
    """The whole history of the registry before ``today`` (the ground truth stays out of it)."""
    calendar = calendar or WorkCalendar()
    found, findings = inspections(
        entities, today=today, seed=seed, points=points, calendar=calendar, agencies=agencies, taken=taken
    )
    return History(
        found,
        findings,
        feeds(entities, today=today, seed=seed, calendar=calendar),
        readings(entities, today=today, seed=seed),
        incidents(entities, today=today, seed=seed),
    )
