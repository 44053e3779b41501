"""The risk score as column expressions: indicator values → points → weighted score → level.

Pure functions over Polars frames and a rule set (``risk/data/score_rules.yaml``), with no database,
so the nightly run over the whole registry, an entity's explanation and the benchmark all use the
same arithmetic. The features frame has ``entity_id`` and one column per indicator (``credit`` and
``scale`` are codes, the rest numbers); ``incident_red`` (bool) marks an incident's override.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

import polars as pl
import yaml

LEVELS = ("red", "yellow", "blue")
CODED = ("credit", "scale")


@dataclass(frozen=True)
class Contribution:
    """One indicator's part in a score: its value, the points (0–100) and the score points it adds."""

    code: str
    name: str
    value: float | str
    points: float
    weight: float
    contribution: float


def shipped_rule_sets() -> list[dict[str, Any]]:
    text = resources.files("jianguan.risk").joinpath("data/score_rules.yaml").read_text(encoding="utf-8")
    data: list[dict[str, Any]] = yaml.safe_load(text)
    return data


def indicator_codes(rules: dict[str, Any]) -> list[str]:
    return list(rules["indicators"])


@functools.cache
def _industry_parents() -> dict[str, str]:
    """GB/T 4754 division (two digits) → section letter, from the packaged table."""
    path = resources.files("jianguan.reference").joinpath("data/gbt4754-2017.csv")
    with path.open(encoding="utf-8") as handle:
        return {row["code"]: row["parent"] for row in csv.DictReader(handle) if row["level"] == "division"}


def industry_points(rules: dict[str, Any]) -> pl.DataFrame:
    """Base points of every industry division: the division's own, else its section's, else the default."""
    table = rules["industry_points"]
    rows = [(division, float(table["divisions"].get(division, table["sections"].get(section, table["default"]))))
            for division, section in _industry_parents().items()]
    return pl.DataFrame(rows, schema={"division": pl.Utf8, "industry": pl.Float64}, orient="row")


def _curve(column: str, pairs: list[list[float]]) -> pl.Expr:
    """Piecewise-linear points of a value: flat below the first pair and after the last."""
    value = pl.col(column).cast(pl.Float64).fill_null(0.0)
    expr: pl.Expr = pl.lit(float(pairs[-1][1]))
    for (x0, y0), (x1, y1) in reversed(list(itertools.pairwise(pairs))):
        slope = (y1 - y0) / (x1 - x0)
        expr = pl.when(value <= x1).then(y0 + (value - x0) * slope).otherwise(expr)
    return pl.when(value <= pairs[0][0]).then(float(pairs[0][1])).otherwise(expr)


def _points(code: str, spec: dict[str, Any]) -> pl.Expr:
    if "categories" in spec:
        mapping = {str(k): float(v) for k, v in spec["categories"].items()}
        return (pl.col(code).cast(pl.Utf8).fill_null("").replace_strict(mapping, default=mapping.get("", 0.0),
                                                                         return_dtype=pl.Float64))
    return _curve(code, spec["scale"])


def points(features: pl.LazyFrame | pl.DataFrame, rules: dict[str, Any]) -> pl.LazyFrame:
    """Add ``p_<indicator>`` (0–100), ``score`` (0–100, two places) and ``level`` to the features."""
    frame = features.lazy()
    indicators = rules["indicators"]
    frame = frame.with_columns([_points(code, spec).alias(f"p_{code}") for code, spec in indicators.items()])
    total = pl.sum_horizontal([pl.col(f"p_{code}") * (float(spec["weight"]) / 100.0)
                               for code, spec in indicators.items()])
    thresholds = rules["thresholds"]
    score = total.round(2)
    red = pl.col("incident_red").fill_null(False) if "incident_red" in frame.collect_schema() else pl.lit(False)
    level = (pl.when(red | (pl.col("score") >= thresholds["red"])).then(pl.lit("red"))
             .when(pl.col("score") >= thresholds["yellow"]).then(pl.lit("yellow"))
             .otherwise(pl.lit("blue")))
    return frame.with_columns(score.alias("score")).with_columns(level.alias("level"))


def score_decimal(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def explain(values: dict[str, Any], rules: dict[str, Any]) -> list[Contribution]:
    """Each indicator's value, points and contribution for one entity, largest contribution first."""
    row = {code: [values.get(code, "" if code in CODED else 0.0)] for code in rules["indicators"]}
    scored = points(pl.DataFrame(row, schema={c: (pl.Utf8 if c in CODED else pl.Float64) for c in row}),
                    rules).collect().row(0, named=True)
    out = [Contribution(code, spec["name"], values.get(code, "" if code in CODED else 0.0),
                        round(scored[f"p_{code}"], 2), float(spec["weight"]),
                        round(scored[f"p_{code}"] * float(spec["weight"]) / 100.0, 2))
           for code, spec in rules["indicators"].items()]
    return sorted(out, key=lambda c: (-c.contribution, c.code))


def level_of(score: float, rules: dict[str, Any], *, incident_red: bool = False) -> str:
    thresholds = rules["thresholds"]
    if incident_red or score >= thresholds["red"]:
        return "red"
    return "yellow" if score >= thresholds["yellow"] else "blue"


def red_until(rules: dict[str, Any], *, kind: str, severity: str, occurred_on: dt.date) -> dt.date | None:
    """An incident's override ends this many calendar days later; general incidents do not override."""
    days = rules.get("incident_red_days", {}).get(kind)
    if days is None or severity == "general":
        return None
    return occurred_on + dt.timedelta(days=int(days))
