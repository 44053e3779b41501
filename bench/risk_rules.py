"""Warning rules over sensor readings (issue 9): the shipped reading rules evaluated for one day over
30 days of readings, and a 30-day back-test of one threshold rule — ours (``risk.evaluate``, Polars)
against a straightforward pandas version of the same rules, side by side on the same readings.

    python3 -m uv run --group bench python bench/risk_rules.py --n 10000000 --repeat 3 \
        --impls polars pandas pandas-category
    python3 -m uv run --group bench python bench/risk_rules.py --check          # equal results, small n
    python3 -m uv run --group bench python bench/risk_rules.py --impl polars --n 10000000   # one run

The readings frame holds the ``readings`` contract of ``risk.evaluate`` (entity_id Int64, metric Utf8,
measured_at Datetime(us, UTC), value Float64), in time order as a feed delivers it: one sensor per
entity over the 30 Beijing days ending ``--as-of`` — cold-chain temperature and tank pressure every
90 minutes, COD and SO₂ hourly (≈ 570 readings a sensor, so 10M readings are ≈ 17,600 sensors), values
normal around their level with ±1 minute jitter; 3 % of each metric's sensors (at least 2) have one or
two faults of 4–12 hours far beyond the limit, 1 % of readings are lost, and 3 % of the COD sensors
(at least 2) fall silent for 6–30 hours. Generated with numpy from a seed, the same for both versions.

The rules: the shipped rules that read readings — the threshold rules FS-02 (cold chain > 8 ℃, 3 in
24 h), WS-01 (tank pressure > 1.0), EC-01 (COD > 50 mg/L, 3 in 24 h), EC-02 (SO₂ > 35 mg/m³, 3 in 24 h)
and the window rules on ``readings:`` sources, EC-04 (fewer than 20 COD readings on a day after 30
days with data) and FS-09 (hygiene score mean falling; no such readings here, so it never fires).
What is timed, after the frame is built:

  evaluate  polars: ``evaluate(rules, as_of=…, readings=…)``; pandas: for each rule in force, the
            threshold as a filter, a sort and ``groupby().rolling("24h").count()`` (fires at min_count,
            on the reading's Beijing day), and the window rule as daily counts and sums per entity
            (``groupby().agg``, ``unstack``), cumulative sums over the days and the same comparisons.
  backtest  polars: ``backtest(FS-02, start=as_of − 29, end=as_of, readings=…)``; pandas: the same
            threshold over the 30 days, then the first firing per entity and none for ``dedup_days``
            (a loop over each entity's few firing days).

``pandas`` holds the metric as Python strings (what ``read_sql`` gives); ``pandas-category`` (with
``--impls polars pandas pandas-category``) is the same code over a frame whose metric is a category.

Each run is a process of its own, polars and pandas in turn, ``--repeat`` times; it prints both
stages' seconds, the RSS before them (the input frame built), the peak RSS of their first call
(``resource.getrusage``, the high-water mark reset once the frame is built) and a digest of the fired
(rule, entity, day) rows; the parent refuses to print a ratio unless the digests agree. ``--check``
runs both in one process at small n, asserts identical fired rows for ``evaluate`` on each of the
30 days and for the back-test of every threshold rule, and that each rule with data fired at least
once; ``tests/risk/test_bench_equivalence.py`` runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_entities import machine
from risk_score import peak_mb, reset_peak, rss_mb

IMPLS = ("polars", "pandas", "pandas-category")
LOCAL = "Asia/Shanghai"
DAYS = 30
HOUR_US = 3_600_000_000
# metric: (share of sensors, minutes between readings, level, spread, level during a fault, its spread)
METRICS = {
    "cold_chain_temp": (0.40, 90, 4.0, 1.2, 10.5, 1.5),
    "tank_pressure_ratio": (0.20, 90, 0.60, 0.08, 1.04, 0.03),
    "cod_mg_l": (0.20, 60, 30.0, 6.0, 62.0, 8.0),
    "so2_mg_m3": (0.20, 60, 20.0, 5.0, 45.0, 6.0),
}
FAULT_SHARE, LOST_SHARE, SILENT_SHARE = 0.03, 0.01, 0.03
BACKTESTED = "FS-02"


def reading_rules() -> list[Any]:
    """The shipped threshold rules and the window rules whose source is ``readings:``."""
    from jianguan.risk import rules

    return [
        r
        for r in rules.shipped()
        if isinstance(r, rules.ThresholdRule)
        or (isinstance(r, rules.WindowRule) and r.params.source.startswith("readings:"))
    ]


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant a Beijing day begins."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(LOCAL)).astimezone(dt.UTC)


# --------------------------------------------------------------------------- the readings


def readings(n: int, seed: int, as_of: dt.date) -> dict[str, np.ndarray]:
    """About ``n`` readings (exactly n when more were made) as numpy columns, in time order;
    ``metric`` as an index into METRICS, ``measured_at`` in microseconds since the epoch (UTC)."""
    rng = np.random.default_rng(seed)
    start = int(day_start(as_of - dt.timedelta(days=DAYS - 1)).timestamp()) * 1_000_000
    span = DAYS * 24 * HOUR_US
    per_sensor = sum(share * DAYS * 24 * 60 / minutes for share, minutes, *_ in METRICS.values())
    sensors = int(np.ceil(n / per_sensor / (1 - LOST_SHARE) * 1.003))  # a little over n, then cut to n
    parts: list[tuple[np.ndarray, ...]] = []
    first_id = 1
    for m, (metric, (share, minutes, level, spread, fault_level, fault_spread)) in enumerate(METRICS.items()):
        count = max(round(sensors * share), 4)
        step, steps = minutes * 60_000_000, DAYS * 24 * 60 // minutes
        ids = np.repeat(np.arange(first_id, first_id + count), steps)
        first_id += count
        offset = rng.integers(0, step, count)  # each sensor's first reading
        at = start + np.repeat(offset, steps) + np.tile(np.arange(steps) * step, count)
        at += rng.integers(-60_000_000, 60_000_000, at.size)
        value = rng.normal(level, spread, at.size)
        faulty = np.zeros(count, dtype=bool)
        faulty[rng.choice(count, max(int(count * FAULT_SHARE), 2), replace=False)] = True
        for episode in range(2):  # one or two faults of 4–12 hours
            on = faulty & (rng.random(count) < (1.0 if episode == 0 else 0.5))
            begin = start + rng.integers(0, span - 12 * HOUR_US, count)
            end = begin + rng.integers(4 * HOUR_US, 12 * HOUR_US, count)
            hit = on[ids - ids[0]] & (at >= begin[ids - ids[0]]) & (at < end[ids - ids[0]])
            value[hit] = rng.normal(fault_level, fault_spread, int(hit.sum()))
        kept = (rng.random(at.size) >= LOST_SHARE) & (at >= start) & (at < start + span)
        if metric == "cod_mg_l":  # outages: hours without a reading
            silent = np.zeros(count, dtype=bool)
            silent[rng.choice(count, max(int(count * SILENT_SHARE), 2), replace=False)] = True
            begin = start + rng.integers(0, span - 30 * HOUR_US, count)
            end = begin + rng.integers(6 * HOUR_US, 30 * HOUR_US, count)
            local = ids - ids[0]
            kept &= ~(silent[local] & (at >= begin[local]) & (at < end[local]))
        parts.append((ids[kept], np.full(int(kept.sum()), m, dtype=np.int8), at[kept], value[kept]))
    names = ("entity_id", "metric", "measured_at", "value")
    cols = {name: np.concatenate(column) for name, column in zip(names, zip(*parts, strict=True), strict=True)}
    if cols["entity_id"].size > n:  # lost in transmission, to make exactly n
        keep = np.sort(rng.choice(cols["entity_id"].size, n, replace=False))
        cols = {name: column[keep] for name, column in cols.items()}
    order = np.argsort(cols["measured_at"], kind="stable")
    return {name: column[order] for name, column in cols.items()}


def polars_frame(cols: dict[str, np.ndarray]) -> Any:
    import polars as pl

    return pl.DataFrame(
        {
            "entity_id": cols["entity_id"],
            "metric": pl.Series(list(METRICS), dtype=pl.Utf8).gather(cols["metric"]),
            "measured_at": pl.Series(cols["measured_at"]).cast(pl.Datetime("us", "UTC")),
            "value": cols["value"],
        }
    )


def pandas_frame(cols: dict[str, np.ndarray], category: bool = False) -> Any:
    """As ``read_sql`` gives it (metric as Python strings), or with the metric as a category."""
    import pandas as pd

    names = list(METRICS)
    return pd.DataFrame(
        {
            "entity_id": cols["entity_id"],
            "metric": pd.Categorical.from_codes(cols["metric"], names)
            if category
            else np.array(names, dtype=object)[cols["metric"]],
            "measured_at": pd.to_datetime(cols["measured_at"], unit="us", utc=True),
            "value": cols["value"],
        }
    )


# --------------------------------------------------------------------------- the pandas version


def pd_threshold(rule: Any, df: Any, first: dt.date, last: dt.date) -> Any:
    """(entity_id, fired_on) where a reading brings the readings beyond the limit within the trailing
    ``window_hours`` to ``min_count``, on the reading's Beijing day."""
    import pandas as pd

    from jianguan.risk.evaluate import COMPARE

    p = rule.params
    low = pd.Timestamp(day_start(first)) - pd.Timedelta(hours=p.window_hours)
    high = pd.Timestamp(day_start(last + dt.timedelta(days=1)))
    kept = (df["metric"] == p.metric) & COMPARE[p.op](df["value"], p.value)
    kept &= (df["measured_at"] >= low) & (df["measured_at"] < high)
    beyond = df.loc[kept, ["entity_id", "measured_at", "value"]].sort_values(["entity_id", "measured_at"])
    if beyond.empty:
        return pd.DataFrame({"entity_id": pd.Series(dtype="int64"), "fired_on": pd.Series(dtype=object)})
    counted = beyond.groupby("entity_id").rolling(f"{p.window_hours}h", on="measured_at")["value"].count()
    beyond["n"] = counted.to_numpy()  # groups in entity order, rows in time order: the frame's order
    fired = beyond[beyond["n"] >= p.min_count]
    fired_on = fired["measured_at"].dt.tz_convert(LOCAL).dt.date
    out = pd.DataFrame({"entity_id": fired["entity_id"], "fired_on": fired_on})
    return out[(out["fired_on"] >= first) & (out["fired_on"] <= last)].drop_duplicates()


def pd_window(rule: Any, df: Any, first: dt.date, last: dt.date) -> Any:
    """A window rule over readings: per entity and Beijing day, the count and sum of the readings, then
    the ``recent_days`` ending on each day against the ``baseline_days`` before them."""
    import pandas as pd

    p = rule.params
    metric = p.source.split(":", 1)[1]
    recent, base = p.recent_days, p.baseline_days or 0
    since = first - dt.timedelta(days=recent + base - 1)
    kept = (df["metric"] == metric) & (df["measured_at"] >= pd.Timestamp(day_start(since)))
    kept &= df["measured_at"] < pd.Timestamp(day_start(last + dt.timedelta(days=1)))
    rows = df.loc[kept, ["entity_id", "measured_at", "value"]]
    if rows.empty:
        return pd.DataFrame({"entity_id": pd.Series(dtype="int64"), "fired_on": pd.Series(dtype=object)})
    day = rows["measured_at"].dt.tz_convert(LOCAL).dt.tz_localize(None).dt.normalize()
    daily = rows.groupby([rows["entity_id"], day])["value"].agg(["count", "sum"])
    days = pd.date_range(since, last, freq="D")
    entities = daily.index.get_level_values(0).unique()
    n = daily["count"].unstack(fill_value=0).reindex(index=entities, columns=days, fill_value=0).to_numpy(float)
    s = daily["sum"].unstack(fill_value=0.0).reindex(index=entities, columns=days, fill_value=0.0).to_numpy(float)
    zero = np.zeros((len(entities), 1))
    cn, cs = np.hstack([zero, n.cumsum(axis=1)]), np.hstack([zero, s.cumsum(axis=1)])  # totals before each day
    out = []
    for i in range((last - first).days + 1):
        d = recent + base + i  # cn[:, d] = total up to and including first + i
        rn, rs = cn[:, d] - cn[:, d - recent], cs[:, d] - cs[:, d - recent]
        if base:
            bn, bs = cn[:, d - recent] - cn[:, d - recent - base], cs[:, d - recent] - cs[:, d - recent - base]
        else:
            bn, bs = np.zeros_like(rn), np.zeros_like(rs)
        with np.errstate(divide="ignore", invalid="ignore"):
            value, baseline = {"count": (rn, bn), "sum": (rs, bs), "mean": (rs / rn, bs / bn)}[p.agg]
            if p.factor is not None:
                per_day = p.agg != "mean"
                r_rate = value / recent if per_day else value
                b_rate = baseline / base if per_day else baseline
                fires = r_rate > p.factor * b_rate if p.direction == "rise" else r_rate < p.factor * b_rate
                fires &= rn >= (p.min_recent or 1)
                if p.direction == "fall" or not per_day:
                    fires &= bn > 0
            elif p.above is not None:
                fires = (rn >= (p.min_recent or 1)) & (value > p.above)
            else:
                fires = (bn > 0) & (value < p.below)
        out.append(pd.DataFrame({"entity_id": entities[fires], "fired_on": first + dt.timedelta(days=i)}))
    return pd.concat(out, ignore_index=True)


def pd_fire(rule: Any, df: Any, first: dt.date, last: dt.date) -> Any:
    from jianguan.risk import rules

    fired = (
        pd_threshold(rule, df, first, last)
        if isinstance(rule, rules.ThresholdRule)
        else pd_window(rule, df, first, last)
    )
    return fired.assign(rule_code=rule.code)


def pd_evaluate(rule_list: Iterable[Any], *, as_of: dt.date, readings: Any) -> Any:
    import pandas as pd

    from jianguan.risk import rules

    parts = [pd_fire(rule, readings, as_of, as_of) for rule in rules.in_force(rule_list, as_of)]
    return pd.concat(parts, ignore_index=True).sort_values(["rule_code", "entity_id"])


def pd_backtest(rule: Any, *, start: dt.date, end: dt.date, readings: Any) -> Any:
    """The rule's firings over [start, end], then per entity the first and none for ``dedup_days``."""
    import pandas as pd

    fired = pd_fire(rule, readings, start, end)
    if rule.dedup_days <= 1:
        return fired
    kept = []
    for entity_id, days in fired.groupby("entity_id")["fired_on"]:
        last = None
        for day in sorted(days):
            if last is None or (day - last).days >= rule.dedup_days:
                kept.append((entity_id, day))
                last = day
    return pd.DataFrame(kept, columns=["entity_id", "fired_on"]).assign(rule_code=rule.code)


# --------------------------------------------------------------------------- both, side by side


def fired_set(frame: Any) -> set[tuple[str, int, dt.date]]:
    """(rule_code, entity_id, fired_on) of a fired frame, Polars or pandas."""
    if hasattr(frame, "iter_rows"):
        return set(frame.select("rule_code", "entity_id", "fired_on").iter_rows())
    return {(str(r), int(e), d) for r, e, d in frame[["rule_code", "entity_id", "fired_on"]].itertuples(index=False)}


def digest(rows: set[tuple[str, int, dt.date]]) -> str:
    return hashlib.sha256("\n".join(f"{r},{e},{d}" for r, e, d in sorted(rows)).encode()).hexdigest()[:16]


def backtested() -> Any:
    return next(r for r in reading_rules() if r.code == BACKTESTED)


def run(impl: str, n: int, seed: int, as_of: dt.date, calls: int = 2) -> dict[str, Any]:
    """Timed calls in this process: build the frame, then time evaluate and the back-test — the first
    call (what the daily job pays) and again (the median of the calls after it). Peak RSS is after the
    first."""
    from jianguan.risk import evaluate as ev

    rule_list, rule = reading_rules(), backtested()
    cols = readings(n, seed, as_of)
    frame = polars_frame(cols) if impl == "polars" else pandas_frame(cols, category=impl == "pandas-category")
    rows = len(cols["entity_id"])
    del cols
    start = as_of - dt.timedelta(days=DAYS - 1)
    reset_peak()
    before, peak = rss_mb(), 0.0
    evaluate_s, backtest_s, fired, warned = [], [], None, None
    for _ in range(calls):
        fired = warned = None
        started = time.perf_counter()
        if impl == "polars":
            fired = ev.evaluate(rule_list, as_of=as_of, readings=frame)
        else:
            fired = pd_evaluate(rule_list, as_of=as_of, readings=frame)
        evaluated = time.perf_counter()
        if impl == "polars":
            warned = ev.backtest(rule, start=start, end=as_of, readings=frame).warnings
        else:
            warned = pd_backtest(rule, start=start, end=as_of, readings=frame)
        evaluate_s.append(evaluated - started)
        backtest_s.append(time.perf_counter() - evaluated)
        peak = peak or peak_mb()
    fired_rows, warned_rows = fired_set(fired), fired_set(warned)
    per_rule = {code: sum(r == code for r, _, _ in fired_rows) for code in sorted({r.code for r in rule_list})}
    again: dict[str, float | None] = {"evaluate_again_s": None, "backtest_again_s": None}
    if calls > 1:
        again = {
            "evaluate_again_s": round(statistics.median(evaluate_s[1:]), 3),
            "backtest_again_s": round(statistics.median(backtest_s[1:]), 3),
        }
    return {
        "impl": impl,
        "n": rows,
        "evaluate_s": round(evaluate_s[0], 3),
        "backtest_s": round(backtest_s[0], 3),
        **again,
        "rss_before_mb": round(before),
        "peak_rss_mb": round(peak),
        "fired": per_rule,
        "backtest_warnings": len(warned_rows),
        "digest": digest(fired_rows | {("backtest", e, d) for _, e, d in warned_rows}),
    }


def check(n: int = 50_000, seed: int = 2026, as_of: dt.date = dt.date(2026, 11, 30)) -> dict[str, int]:
    """Both versions at small n in one process: identical fired rows for ``evaluate`` on every day of
    the 30 and for the back-test of each threshold rule; each rule with readings fires at least once."""
    from jianguan.risk import evaluate as ev
    from jianguan.risk import rules

    rule_list = reading_rules()
    cols = readings(n, seed, as_of)
    ours_frame, pandas_df, categorised = polars_frame(cols), pandas_frame(cols), pandas_frame(cols, category=True)
    fired: dict[str, int] = dict.fromkeys((r.code for r in rule_list), 0)
    for back in range(DAYS):
        day = as_of - dt.timedelta(days=back)
        a = fired_set(ev.evaluate(rule_list, as_of=day, readings=ours_frame))
        b = fired_set(pd_evaluate(rule_list, as_of=day, readings=pandas_df))
        assert b == fired_set(pd_evaluate(rule_list, as_of=day, readings=categorised))
        assert a == b, f"evaluate on {day}: only ours {sorted(a - b)[:5]}, only pandas {sorted(b - a)[:5]}"
        for code, _, _ in a:
            fired[code] += 1
    start = as_of - dt.timedelta(days=DAYS - 1)
    for rule in (r for r in rule_list if isinstance(r, rules.ThresholdRule)):
        a = fired_set(ev.backtest(rule, start=start, end=as_of, readings=ours_frame).warnings)
        b = fired_set(pd_backtest(rule, start=start, end=as_of, readings=pandas_df))
        assert a == b, f"backtest {rule.code}: only ours {sorted(a - b)[:5]}, only pandas {sorted(b - a)[:5]}"
        assert a, f"backtest {rule.code} raised nothing: the check would prove nothing"
        fired[f"{rule.code} backtest"] = len(a)
    silent = [code for code, count in fired.items() if not count and code != "FS-09"]
    assert not silent, f"never fired, so not compared: {silent}"
    return fired


# --------------------------------------------------------------------------- the run (parent process)


def measure(impl: str, n: int, seed: int, as_of: dt.date, calls: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--impl",
            impl,
            "--n",
            str(n),
            "--seed",
            str(seed),
            "--as-of",
            as_of.isoformat(),
            "--calls",
            str(calls),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", help="readings (default 10M; 50,000 with --check)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each version (median quoted)")
    parser.add_argument("--calls", type=int, default=2, help="timed calls per process (first, then again)")
    parser.add_argument("--impl", choices=IMPLS, help="one run of one version in this process (JSON line)")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS[:2]))
    parser.add_argument("--check", action="store_true", help="assert both versions agree at small n")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.check:
        for n in args.n or [50_000]:
            print(f"{n:,} readings: same fired rows in both versions {check(n, args.seed, args.as_of)}")
        return
    args.n = args.n or [10_000_000]
    if args.impl:
        for n in args.n:
            print(json.dumps(run(args.impl, n, args.seed, args.as_of, args.calls)), flush=True)
        return
    print(machine(), f"load average {os.getloadavg()[0]:.2f}", flush=True)
    report = []
    for n in args.n:
        runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in args.impls}
        for _ in range(args.repeat):  # in turn, so a drift of the machine touches both
            for impl in args.impls:
                runs[impl].append(measure(impl, n, args.seed, args.as_of, args.calls))
                last = runs[impl][-1]
                print(
                    f"  {last['n']:>10,} {impl:15s} evaluate {last['evaluate_s']:6.2f} s (again "
                    f"{last['evaluate_again_s'] or 0:5.2f})  backtest {last['backtest_s']:6.2f} s (again "
                    f"{last['backtest_again_s'] or 0:5.2f})  peak RSS {last['peak_rss_mb']:6,} MiB (before "
                    f"{last['rss_before_mb']:,})  fired {last['fired']}, back-test {last['backtest_warnings']}  "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        digests = {r["digest"] for rs in runs.values() for r in rs}
        assert len(digests) == 1, f"the versions disagree: {digests}"
        row: dict[str, Any] = {"n": n}
        figures = ["evaluate_s", "backtest_s"] + (["evaluate_again_s", "backtest_again_s"] if args.calls > 1 else [])
        for impl, rs in runs.items():
            row[impl] = {k: statistics.median(r[k] for r in rs) for k in figures}
            row[impl]["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
        said = [
            f"{impl} evaluate {row[impl]['evaluate_s']:.2f} s, backtest {row[impl]['backtest_s']:.2f} s"
            for impl in runs
        ]
        for other in (i for i in runs if i != "polars" and "polars" in runs):
            for k in figures:
                pairs = [b[k] / a[k] for a, b in zip(runs["polars"], runs[other], strict=True)]
                row[f"{other}/polars {k}"] = statistics.median(pairs)
            said.append(
                f"{other}/polars evaluate {row[f'{other}/polars evaluate_s']:.2f}×, backtest "
                f"{row[f'{other}/polars backtest_s']:.2f}× (median of pairs)"
            )
        print(
            f"{n:,} readings (median of {args.repeat}): "
            + "; ".join(said)
            + f"; same fired rows in every run; load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        report.append(row)
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
