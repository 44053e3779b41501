"""Risk score speed (issue 9): every entity scored on all 14 indicators, with the three largest
contributions of its explanation — ours (Polars) against a straightforward pandas version of the same
arithmetic, side by side on the same synthetic features.

    python3 -m uv run --group bench python bench/risk_score.py --n 1000000 5000000 --repeat 3
    python3 -m uv run --group bench python bench/risk_score.py --check          # equal results, small n
    python3 -m uv run --group bench python bench/risk_score.py --impl polars --n 5000000   # one run

The features frame is what ``risk.indicators.gather`` hands the nightly run: ``entity_id``, ``credit``
(A–D or null), ``scale`` (a code or null), ``industry`` (0–100), the counted indicators of
``indicators.COUNTED`` (most zero, Poisson tails) and ``incident_red``; generated with numpy from a seed,
the same for both versions. What is timed, after the frame is built:

  polars  ``scoring.points(features, rules)`` (points, weighted score, level) plus top1..top3, the codes
          of the three largest contributions round(p × weight / 100, 2), ties by code — the first three
          lines of ``scoring.explain`` — as column expressions, collected.
  pandas  the same with pandas 2 and numpy as a developer would first write it: ``Series.map`` for the
          coded indicators, ``numpy.interp`` for the curves, the weighted sum of the columns, ``round``,
          ``numpy.select`` for the level, and a stable ``numpy.argsort`` of the contributions per row.

Each run is a process of its own (polars and pandas in turn, ``--repeat`` times) that times the first
call (what the nightly job pays) and a second one (``--calls``). It prints the RSS before the stage
(the input frame built), the peak RSS of the first call (``resource.getrusage``; the high-water mark is
reset once the frame is built, so the generator's own peak does not count, the input frame does) and a
digest of the scores, levels and top-3 codes; the parent prints no ratio unless the digests agree.
``--check`` computes both in one process at small n and asserts equal results value by value (and the
top 3 against ``scoring.explain`` for the first rows); ``tests/risk/test_bench_equivalence.py`` runs it.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_entities import machine

IMPLS = ("polars", "pandas")
CREDIT = ("A", "B", "C", "D", None)
CREDIT_SHARE = (0.30, 0.45, 0.15, 0.03, 0.07)
SCALE = ("large", "medium", "small", "micro", None)
SCALE_SHARE = (0.03, 0.10, 0.30, 0.55, 0.02)
# counted indicator: (share of entities with any, mean of the Poisson tail above 1)
COUNTS = {
    "violations": (0.12, 1.5),  # weighted: general 1, penalty 2, serious 3
    "complaints": (0.08, 1.0),
    "warnings": (0.03, 0.5),
    "licences": (0.04, 0.3),  # expired 2, expiring 1
    "overdue_inspections": (0.02, 0.2),
    "rectifications": (0.03, 0.4),
    "abnormal": (0.02, 0.1),  # at most 2 (two lists)
    "sensor": (0.01, 4.0),
    "mismatches": (0.005, 0.3),
    "incidents": (0.003, 0.5),
    "sampling": (0.01, 0.2),
}
INCIDENT_RED_SHARE = 0.0005
LEVELS = ("red", "yellow", "blue")


def rules() -> dict[str, Any]:
    from jianguan.risk import scoring

    rule_set: dict[str, Any] = scoring.shipped_rule_sets()[0]
    return rule_set


# --------------------------------------------------------------------------- the features


def features(n: int, seed: int, rule_set: dict[str, Any]) -> dict[str, np.ndarray]:
    """Columns as numpy arrays; ``credit`` and ``scale`` as indexes into CREDIT and SCALE."""
    from jianguan.risk import indicators, scoring

    assert set(COUNTS) == set(indicators.COUNTED), "the bench's indicators are not the shipped ones"
    rng = np.random.default_rng(seed)
    industry = scoring.industry_points(rule_set)["industry"].to_numpy()
    cols: dict[str, np.ndarray] = {"entity_id": np.arange(1, n + 1, dtype=np.int64)}
    cols["credit"] = rng.choice(len(CREDIT), n, p=CREDIT_SHARE)
    cols["scale"] = rng.choice(len(SCALE), n, p=SCALE_SHARE)
    cols["industry"] = industry[rng.integers(0, len(industry), n)]
    for code, (share, tail) in COUNTS.items():
        counted = np.where(rng.random(n) < share, 1 + rng.poisson(tail, n), 0)
        cols[code] = (np.minimum(counted, 2) if code == "abnormal" else counted).astype(np.float64)
    cols["incident_red"] = rng.random(n) < INCIDENT_RED_SHARE
    return cols


def polars_frame(cols: dict[str, np.ndarray]) -> Any:
    import polars as pl

    coded = {"credit": CREDIT, "scale": SCALE}
    return pl.DataFrame(
        [pl.Series(k, coded[k], dtype=pl.Utf8).gather(v) if k in coded else pl.Series(k, v) for k, v in cols.items()]
    )


def pandas_frame(cols: dict[str, np.ndarray]) -> Any:
    import pandas as pd

    coded = {"credit": np.array(CREDIT, dtype=object), "scale": np.array(SCALE, dtype=object)}
    return pd.DataFrame({k: coded[k][v] if k in coded else v for k, v in cols.items()})


# --------------------------------------------------------------------------- the two versions


def _top3_keys(rule_set: dict[str, Any]) -> dict[str, Any]:
    """One integer key per indicator (``_k<i>``) that orders by contribution round(p × weight / 100, 2),
    then by code: the contribution in cents × slots + the code's place counted from the end."""
    import polars as pl

    codes = sorted(rule_set["indicators"])
    slots = len(codes)
    keys = {}
    for place, code in enumerate(codes):
        weight = float(rule_set["indicators"][code]["weight"])
        cents = ((pl.col(f"p_{code}") * weight / 100.0).round(2) * 100.0).round().cast(pl.Int32)
        keys[f"_k{place}"] = cents * slots + (slots - 1 - place)
    return keys


def ours(frame: Any, rule_set: dict[str, Any]) -> Any:
    """``scoring.points`` and the explanation's top 3: three horizontal maxima of the keys, each below
    the one before (keys are distinct within a row), decoded to the indicator's code; collected."""
    import polars as pl

    from jianguan.risk import scoring

    keys = _top3_keys(rule_set)
    codes = sorted(rule_set["indicators"])
    slots, named = len(codes), dict(enumerate(codes))

    def below(top: str) -> Any:
        return pl.max_horizontal([pl.when(pl.col(k) < pl.col(top)).then(pl.col(k)).otherwise(-1) for k in keys])

    def code_of(top: str) -> Any:
        return (slots - 1 - pl.col(top) % slots).replace_strict(named, return_dtype=pl.Utf8)

    return (
        scoring.points(frame, rule_set)
        .with_columns(**keys)
        .with_columns(top1=pl.max_horizontal(list(keys)))
        .with_columns(top2=below("top1"))
        .with_columns(top3=below("top2"))
        .with_columns(top1=code_of("top1"), top2=code_of("top2"), top3=code_of("top3"))
        .drop(*keys)
        .collect()
    )


def straightforward(df: Any, rule_set: dict[str, Any]) -> Any:
    """The same scoring in pandas/numpy, written the plain way: one vectorised column per indicator."""
    import pandas as pd

    indicators = rule_set["indicators"]
    out = pd.DataFrame({"entity_id": df["entity_id"]})
    for code, spec in indicators.items():
        if "categories" in spec:
            mapping = {str(k): float(v) for k, v in spec["categories"].items()}
            out[f"p_{code}"] = df[code].map(mapping).fillna(mapping.get("", 0.0))
        else:
            xs, ys = zip(*spec["scale"], strict=True)
            out[f"p_{code}"] = np.interp(df[code].fillna(0.0), xs, ys)
    total = sum(out[f"p_{code}"] * (float(spec["weight"]) / 100.0) for code, spec in indicators.items())
    out["score"] = total.round(2)
    thresholds = rule_set["thresholds"]
    red = df["incident_red"].fillna(False) | (out["score"] >= thresholds["red"])
    out["level"] = np.select([red, out["score"] >= thresholds["yellow"]], ["red", "yellow"], "blue")
    codes = sorted(indicators)
    weights = np.array([float(indicators[c]["weight"]) for c in codes])
    contributions = np.round(out[[f"p_{c}" for c in codes]].to_numpy() * weights / 100.0, 2)
    top = np.argsort(-contributions, axis=1, kind="stable")[:, :3]  # ties: the code first in order
    names = np.array(codes, dtype=object)[top]
    out["top1"], out["top2"], out["top3"] = names[:, 0], names[:, 1], names[:, 2]
    return out


def results(out: Any, impl: str, codes: list[str]) -> dict[str, np.ndarray]:
    """The compared columns as numpy: score, the level and the top-3 codes as small integers."""
    columns = ["entity_id", "score", *(f"p_{c}" for c in codes)]
    if impl == "polars":
        import polars as pl

        index = {c: i for i, c in enumerate(codes)}
        arrays = {c: out[c].to_numpy() for c in columns}
        arrays["level"] = out["level"].replace_strict({v: i for i, v in enumerate(LEVELS)}, return_dtype=pl.Int8)
        arrays["level"] = arrays["level"].to_numpy()
        for k in ("top1", "top2", "top3"):
            arrays[k] = out[k].replace_strict(index, return_dtype=pl.Int8).to_numpy()
        return arrays
    import pandas as pd

    arrays = {c: out[c].to_numpy() for c in columns}
    arrays["level"] = pd.Categorical(out["level"], categories=list(LEVELS)).codes
    for k in ("top1", "top2", "top3"):
        arrays[k] = pd.Categorical(out[k], categories=codes).codes
    return arrays


def digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in ("entity_id", "score", "level", "top1", "top2", "top3"):
        h.update(np.ascontiguousarray(arrays[k], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- one run, and the check


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> None:
    """From here on ``ru_maxrss`` is the peak since now (Linux: 5 → clear_refs resets the high-water mark)."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(impl: str, n: int, seed: int, calls: int = 2) -> dict[str, Any]:
    """Timed calls in this process: build the frame, then time the scoring alone — the first call (what
    the nightly job pays) and again (the median of the calls after it). Peak RSS is after the first."""
    rule_set = rules()
    cols = features(n, seed, rule_set)
    frame = polars_frame(cols) if impl == "polars" else pandas_frame(cols)
    del cols
    score = ours if impl == "polars" else straightforward
    reset_peak()
    before, times, peak, out = rss_mb(), [], 0.0, None
    for _ in range(calls):
        out = None
        started = time.perf_counter()
        out = score(frame, rule_set)
        times.append(time.perf_counter() - started)
        peak = peak or peak_mb()
    arrays = results(out, impl, sorted(rule_set["indicators"]))
    levels = dict(zip(LEVELS, np.bincount(arrays["level"], minlength=3).tolist(), strict=True))
    return {
        "impl": impl,
        "n": n,
        "seconds": round(times[0], 3),
        "again_s": round(statistics.median(times[1:]), 3) if calls > 1 else None,
        "rss_before_mb": round(before),
        "peak_rss_mb": round(peak),
        "levels": levels,
        "digest": digest(arrays),
    }


def check(n: int = 2000, seed: int = 2026, explained: int = 200) -> dict[str, int]:
    """Both versions at small n in one process: points, scores, levels and top 3 equal value by value,
    and the top 3 equal to ``scoring.explain`` for the first ``explained`` entities."""
    from jianguan.risk import scoring

    rule_set = rules()
    cols = features(n, seed, rule_set)
    frame = polars_frame(cols)
    codes = sorted(rule_set["indicators"])
    a = results(ours(frame, rule_set), "polars", codes)
    b = results(straightforward(pandas_frame(cols), rule_set), "pandas", codes)
    for k in a:
        differ = np.flatnonzero(a[k] != b[k])
        assert differ.size == 0, (
            f"{k} differs at {differ.size} rows, e.g. row {differ[0]}: {a[k][differ[0]]} ≠ {b[k][differ[0]]}"
        )
    for row in frame.head(explained).iter_rows(named=True):
        top = [c.code for c in scoring.explain(row, rule_set)[:3]]
        i = row["entity_id"] - 1
        assert top == [codes[a[k][i]] for k in ("top1", "top2", "top3")], (row, top)
    return dict(zip(LEVELS, np.bincount(a["level"], minlength=3).tolist(), strict=True))


# --------------------------------------------------------------------------- the run (parent process)


def measure(impl: str, n: int, seed: int, calls: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--impl", impl, "--n", str(n), "--seed", str(seed), "--calls", str(calls)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", help="entities (default 1M and 5M; 2,000 with --check)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each version (median quoted)")
    parser.add_argument("--calls", type=int, default=2, help="timed calls per process (first, then again)")
    parser.add_argument("--impl", choices=IMPLS, help="one run of one version in this process (JSON line)")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS))
    parser.add_argument("--check", action="store_true", help="assert both versions agree at small n")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.check:
        for n in args.n or [2000]:
            levels = check(n, args.seed)
            print(f"{n:,} entities: same points, scores, levels and top 3 in both versions {levels}")
        return
    args.n = args.n or [1_000_000, 5_000_000]
    if args.impl:
        for n in args.n:
            print(json.dumps(run(args.impl, n, args.seed, args.calls)), flush=True)
        return
    print(machine(), f"load average {os.getloadavg()[0]:.2f}", flush=True)
    report = []
    for n in args.n:
        runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in args.impls}
        for _ in range(args.repeat):  # in turn, so a drift of the machine touches both
            for impl in args.impls:
                runs[impl].append(measure(impl, n, args.seed, args.calls))
                last = runs[impl][-1]
                print(
                    f"  {n:>10,} {impl:7s} {last['seconds']:8.2f} s, again {last['again_s'] or 0:6.2f} s  peak RSS "
                    f"{last['peak_rss_mb']:6,} MiB (before {last['rss_before_mb']:,})  {last['levels']}  "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        digests = {r["digest"] for rs in runs.values() for r in rs}
        assert len(digests) == 1, f"the versions disagree: {digests}"
        row: dict[str, Any] = {"n": n}
        figures = ("seconds", "again_s") if args.calls > 1 else ("seconds",)
        for impl, rs in runs.items():
            row[impl] = {k: statistics.median(r[k] for r in rs) for k in figures}
            row[impl] |= {"peak_rss_mb": max(r["peak_rss_mb"] for r in rs), "levels": rs[0]["levels"]}
        if set(runs) == set(IMPLS):
            for k in figures:
                pairs = [b[k] / a[k] for a, b in zip(runs["polars"], runs["pandas"], strict=True)]
                row[f"ratio_{k}"] = statistics.median(pairs)
        said = [
            f"{impl} {row[impl]['seconds']:.2f} s"
            + (f" (again {row[impl]['again_s']:.2f} s)" if args.calls > 1 else "")
            for impl in runs
        ]
        if "ratio_seconds" in row:
            said.append(
                f"pandas/polars {row['ratio_seconds']:.2f}×"
                + (f" (again {row['ratio_again_s']:.2f}×)" if args.calls > 1 else "")
                + " (median of pairs)"
            )
        print(
            f"{n:,} entities (median of {args.repeat}): "
            + "; ".join(said)
            + f"; same scores in every run; load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        report.append(row)
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
