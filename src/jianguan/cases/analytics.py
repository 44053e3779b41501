"""Consistency of decided fines (同案不同罚) and the rate of decisions outside the benchmark (畸轻畸重),
columnar over every decided case the viewer may see (Polars; a million cases in seconds, bench/cases.py).

A fine is placed in its legal range as a position from 0 (the minimum) to 1 (the maximum), so cases whose
range depends on the goods' value still compare. Within one rule and tier, an agency or region whose
median position lies more than ``SPREAD`` of the range from the rule's own median, over at least
``MIN_GROUP`` cases, is flagged. A decision outside the suggested range without the reviewer's accepted
reason counts as outside the benchmark; the target is at most 2 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.cases.models import Case
from jianguan.core.bulkload import select_frame
from jianguan.officers.models import Agency

SPREAD = 0.25
MIN_GROUP = 5
TARGET_PCT = Decimal("2.00")
SCHEMA = {"rule": pl.Utf8, "tier": pl.Utf8, "agency_id": pl.Int64, "region_code": pl.Utf8, "fine": pl.Int64,
          "legal_low": pl.Int64, "legal_high": pl.Int64, "low": pl.Int64, "high": pl.Int64, "cleared": pl.Int64}


def _fen(column: Any) -> Any:
    return cast(func.round(column * 100), Integer)


def frame(db: Session, *, actor: User) -> pl.DataFrame:
    """Decided fines under a benchmark rule, in fen."""
    stmt = (select(Case.violation_code, Case.tier, Case.agency_id, Case.region_code, _fen(Case.decision_fine),
                   _fen(Case.legal_low), _fen(Case.legal_high), _fen(Case.suggested_low), _fen(Case.suggested_high),
                   cast(Case.deviation_cleared_by.is_not(None), Integer))
            .where(visible(Case, actor), Case.decided_on.is_not(None), Case.outcome == "penalty",
                   Case.violation_code != "", Case.decision_fine.is_not(None), Case.legal_high.is_not(None)))
    return select_frame(db, stmt, SCHEMA)


def figures(df: pl.DataFrame, *, names: dict[int, str] | None = None, spread: float = SPREAD,
            min_group: int = MIN_GROUP) -> dict[str, Any]:
    names = names or {}
    width = (pl.col("legal_high") - pl.col("legal_low")).cast(pl.Float64)
    df = df.with_columns(
        position=pl.when(width > 0).then((pl.col("fine") - pl.col("legal_low")) / width).otherwise(0.0),
        outside=(pl.col("low").is_not_null() & ((pl.col("fine") < pl.col("low")) | (pl.col("fine") > pl.col("high")))
                 & (pl.col("cleared") == 0)),
    )
    decided, outside = df.height, int(df["outside"].sum() or 0)
    pct = (Decimal(outside * 100) / decided).quantize(Decimal("0.01")) if decided else Decimal("0.00")
    per_rule = (df.group_by("rule").agg(pl.len().alias("n"), pl.col("outside").sum().alias("outside"),
                                        (pl.col("fine").median() / 100).alias("median"))
                .sort("n", descending=True))
    rule_tier = df.group_by("rule", "tier").agg(pl.col("position").median().alias("rule_position"))
    flags: list[dict[str, Any]] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for key in ("agency_id", "region_code"):
        grouped = (df.group_by("rule", "tier", key)
                   .agg(pl.len().alias("n"), pl.col("position").median().alias("position"),
                        (pl.col("fine").quantile(0.1) / 100).alias("p10"),
                        (pl.col("fine").median() / 100).alias("median"),
                        (pl.col("fine").quantile(0.9) / 100).alias("p90"))
                   .join(rule_tier, on=["rule", "tier"])
                   .with_columns(flag=((pl.col("position") - pl.col("rule_position")).abs() > spread)
                                 & (pl.col("n") >= min_group))
                   .sort("rule", "tier", key))
        label = "agency" if key == "agency_id" else "region"
        rows = []
        for row in grouped.iter_rows(named=True):
            item = {"rule": row["rule"], "tier": row["tier"], "group": label, "key": row[key],
                    "name": names.get(row[key], str(row[key])) if label == "agency" else str(row[key]), "n": row["n"],
                    "median": _yuan(row["median"]), "p10": _yuan(row["p10"]), "p90": _yuan(row["p90"]),
                    "position": round(row["position"], 3), "rule_position": round(row["rule_position"], 3),
                    "flag": bool(row["flag"])}
            rows.append(item)
            if item["flag"]:
                flags.append(item)
        groups[label] = rows
    return {"decided": decided, "outside": outside, "outside_pct": f"{pct}", "target_pct": f"{TARGET_PCT}",
            "met": pct <= TARGET_PCT,
            "rules": [{"rule": r["rule"], "n": r["n"], "outside": int(r["outside"]), "median": _yuan(r["median"])}
                      for r in per_rule.iter_rows(named=True)],
            "by_agency": groups["agency"], "by_region": groups["region"], "flags": flags}


def _yuan(value: float | None) -> str:
    return "" if value is None else f"{Decimal(str(round(value, 2))):.2f}"


def consistency(db: Session, *, actor: User) -> dict[str, Any]:
    names = {agency_id: name for agency_id, name in db.execute(select(Agency.id, Agency.name))}
    return figures(frame(db, actor=actor), names=names)
