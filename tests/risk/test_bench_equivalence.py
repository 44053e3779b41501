"""The risk benchmarks compare equal work: their pandas versions give exactly our scores and fire on
exactly our (rule, entity, day) rows. pandas is in the ``bench`` group only, so this skips without it:
``python3 -m uv run --group bench pytest tests/risk/test_bench_equivalence.py``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("pandas")

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)  # it puts bench/ first on sys.path for its sibling imports
    finally:
        sys.path[:] = path
    return module


def test_pandas_scoring_gives_our_points_scores_levels_and_top_three_for_2000_entities() -> None:
    levels = bench("risk_score").check(2000, seed=2026, explained=200)
    assert sum(levels.values()) == 2000
    assert sum(count > 0 for count in levels.values()) >= 2  # not all one level: the comparison means something


def test_pandas_rules_fire_on_our_rows_over_50000_readings_each_day_and_in_the_back_tests() -> None:
    fired = bench("risk_rules").check(50_000, seed=2026)
    assert fired["FS-02 backtest"] > 0
    assert fired["EC-04"] > 0  # the window rule, not only the thresholds
