"""How well a ranking finds violations on held-out inspections: AUC, lift at 10 % and 20 %, curves.

Pure functions over a frame of inspections with a 0/1 label and a ranking column, no database, so the
stored evaluation of a learned model, the tests and any later re-check use the same arithmetic.

Lift follows the Chicago food-inspection evaluation: the violations found by the first N % of the
inspections ranked by the score, divided by what N % picked at random would find (N % × all violations).

Ties are neutral by construction: where the cut falls inside a group of equal scores, the group
counts with its average violation rate — the expected value over every random order of the tie, and
what ``roc_auc_score`` does for AUC. A rule score with many equal values therefore gets exactly the
lift of random selection inside its ties, never a flattering one from an order that happens to put
violations first; and the result is deterministic without a seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

SHARES = (0.10, 0.20)  # the lifts reported and compared
CURVE_STEP = 5  # the gain/lift curve every 5 %
ROC_POINTS = 101
RESAMPLES = 400  # paired bootstrap of the comparison
CONFIDENCE_LOW = 0.05  # the 5th percentile of the differences: a one-sided 95 % bound

Floats = npt.NDArray[np.float64]


def _arrays(frame: pl.DataFrame, label: str, by: str) -> tuple[Floats, Floats]:
    """Labels as 0/1 floats and scores with missing values ranked last."""
    y = frame[label].cast(pl.Float64).fill_null(0.0).to_numpy().astype(np.float64)
    raw = frame[by].cast(pl.Float64).fill_nan(None)
    low = raw.min()
    floor = (float(low) if isinstance(low, int | float) else 0.0) - 1.0
    s = raw.fill_null(floor).to_numpy().astype(np.float64)
    return y, s


def _groups(scores: Floats, y: Floats) -> tuple[Floats, Floats]:
    """Per distinct score, highest first: how many inspections and how many violations."""
    _, inverse = np.unique(-scores, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    positives = np.bincount(inverse, weights=y).astype(np.float64)
    return counts, positives


def _found(counts: Floats, positives: Floats, take: npt.NDArray[np.int64]) -> Floats:
    """Expected violations among the first ``take`` inspections, a cut inside a tie at the tie's rate."""
    cum_n, cum_p = np.cumsum(counts), np.cumsum(positives)
    idx = np.minimum(np.searchsorted(cum_n, take, side="left"), len(counts) - 1)
    before_n = np.where(idx > 0, cum_n[idx - 1], 0.0)
    before_p = np.where(idx > 0, cum_p[idx - 1], 0.0)
    found: Floats = before_p + (take - before_n) * positives[idx] / counts[idx]
    return found


def _take(n: int, share: float) -> int:
    """How many inspections make the first ``share`` of ``n`` (at least one)."""
    return max(1, min(n, math.ceil(share * n - 1e-9)))


def _auc_fast(scores: Floats, y: Floats) -> float:
    """AUC with ties counted half (Mann–Whitney), for the bootstrap; equals ``roc_auc_score``."""
    counts, positives = _groups(scores, y)
    negatives = counts - positives
    total_p, total_n = positives.sum(), negatives.sum()
    below = total_n - np.cumsum(negatives)  # negatives with a strictly lower score
    return float((positives * (below + 0.5 * negatives)).sum() / (total_p * total_n))


def _lift(counts: Floats, positives: Floats, n: int, share: float) -> float:
    k = _take(n, share)
    found = float(_found(counts, positives, np.array([k], dtype=np.int64))[0])
    return found / (k / n * float(positives.sum()))


def _r(value: float) -> float:
    return round(float(value), 4)


def evaluate(frame: pl.DataFrame, *, label: str, by: str) -> dict[str, Any]:
    """AUC, lift at 10 % and 20 % with the extra violations found, the ROC curve (≤ 101 points) and
    the gain/lift curve every 5 %, for inspections ranked by ``by`` (highest first)."""
    from sklearn.metrics import roc_auc_score, roc_curve  # type: ignore[import-untyped]

    if frame.height == 0:
        raise ValueError("no inspections to evaluate")
    y, s = _arrays(frame, label, by)
    n, violations = len(y), float(y.sum())
    counts, positives = _groups(s, y)
    both = 0 < violations < n
    out: dict[str, Any] = {
        "rows": n,
        "violations": int(violations),
        "base_rate": _r(violations / n),
        "distinct_scores": len(counts),
        "auc": _r(roc_auc_score(y, s)) if both else None,
    }
    at: dict[str, Any] = {}
    for share in SHARES:
        k = _take(n, share)
        found = float(_found(counts, positives, np.array([k], dtype=np.int64))[0])
        random = k / n * violations
        lift = found / random if violations else None
        key = f"{round(share * 100)}"
        out[f"lift_{key}"] = None if lift is None else _r(lift)
        at[key] = {
            "inspected": k,
            "found": _r(found),
            "random": _r(random),
            "extra": _r(found - random),
            "lift": out[f"lift_{key}"],
        }
    out["at"] = at
    steps = np.array([_take(n, p / 100) for p in range(CURVE_STEP, 101, CURVE_STEP)], dtype=np.int64)
    found_curve = _found(counts, positives, steps)
    out["gain"] = [
        {
            "share": p / 100,
            "inspected": int(k),
            "found": _r(f),
            "captured": _r(f / violations) if violations else None,
            "lift": _r(f / (k / n * violations)) if violations else None,
        }
        for p, k, f in zip(range(CURVE_STEP, 101, CURVE_STEP), steps, found_curve, strict=True)
    ]
    if both:
        fpr, tpr, _ = roc_curve(y, s)
        keep = np.unique(np.round(np.linspace(0, len(fpr) - 1, min(ROC_POINTS, len(fpr)))).astype(np.int64))
        out["roc"] = [[_r(fpr[i]), _r(tpr[i])] for i in keep]
    else:
        out["roc"] = []
    return out


def _interval(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "low": None, "high": None}
    arr = np.asarray(values, dtype=np.float64)
    low, high = np.quantile(arr, [CONFIDENCE_LOW, 1 - CONFIDENCE_LOW])
    return {"mean": _r(float(arr.mean())), "low": _r(float(low)), "high": _r(float(high))}


def bootstrap(y: Floats, model: Floats, rule: Floats, *, seed: int = 0, resamples: int = RESAMPLES) -> dict[str, Any]:
    """Paired bootstrap of model − rule (AUC and the lifts) over the same resampled inspections: how
    far the difference could be chance. Resamples with only one class are skipped."""
    rng = np.random.default_rng(seed)
    n = len(y)
    diffs: dict[str, list[float]] = {"auc": [], **{f"lift_{round(s * 100)}": [] for s in SHARES}}
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        yb = y[idx]
        if not 0 < yb.sum() < n:
            continue
        mb, rb = model[idx], rule[idx]
        diffs["auc"].append(_auc_fast(mb, yb) - _auc_fast(rb, yb))
        mg, rg = _groups(mb, yb), _groups(rb, yb)
        for share in SHARES:
            diffs[f"lift_{round(share * 100)}"].append(_lift(*mg, n, share) - _lift(*rg, n, share))
    return {"resamples": len(diffs["auc"]), "seed": seed, **{k: _interval(v) for k, v in diffs.items()}}


def compare(
    frame: pl.DataFrame, *, label: str, model_col: str, rule_col: str, seed: int = 0, resamples: int = RESAMPLES
) -> dict[str, Any]:
    """Both rankings on the same inspections; ``beats_rule`` only when the model's lift at 10 % and at
    20 % and its AUC are all higher than the rule score's, and the AUC gain is not chance (its one-sided
    95 % bootstrap bound is above zero) — so a model that merely got lucky on a small test set is not
    used for draws."""
    model, rule = evaluate(frame, label=label, by=model_col), evaluate(frame, label=label, by=rule_col)
    keys = ("auc", *(f"lift_{round(s * 100)}" for s in SHARES))
    higher = all(model[k] is not None and rule[k] is not None and model[k] > rule[k] for k in keys)
    y, m = _arrays(frame, label, model_col)
    _, r = _arrays(frame, label, rule_col)
    spread = bootstrap(y, m, r, seed=seed, resamples=resamples) if model["auc"] is not None else {}
    low = spread.get("auc", {}).get("low")
    significant = low is not None and low > 0
    return {
        "model": model,
        "rule": rule,
        "higher": higher,
        "significant": significant,
        "bootstrap": spread,
        "beats_rule": higher and significant,
    }
