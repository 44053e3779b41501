"""Consistency analytics: a fine's position in its legal range, groups flagged when their median sits
apart from the rule's, and the rate of decisions outside the suggestion without an accepted reason."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.cases import analytics


def cases(rows: list[tuple[str, int, str, int, int]]) -> pl.DataFrame:
    """(tier, agency, region, fine yuan, cleared) under SP-124 with a ¥50,000–100,000 range, ordinary
    suggestion ¥65,000–85,000."""
    return pl.DataFrame(
        [{"rule": "SP-124", "tier": tier, "agency_id": agency, "region_code": region, "fine": fine * 100,
          "legal_low": 5_000_000, "legal_high": 10_000_000, "low": 6_500_000, "high": 8_500_000, "cleared": cleared}
         for tier, agency, region, fine, cleared in rows], schema=analytics.SCHEMA)


def test_an_agency_fining_at_the_top_of_the_range_is_flagged() -> None:
    rows = [("ordinary", 1, "330106", 75_000, 0)] * 8 + [("ordinary", 2, "330108", 100_000, 1)] * 5
    got = analytics.figures(cases(rows), names={1: "西湖区局", 2: "滨江区局"})
    assert [(f["group"], f["name"]) for f in got["flags"]] == [("agency", "滨江区局"), ("region", "330108")]
    top = next(f for f in got["flags"] if f["group"] == "agency")
    assert top["position"] == 1.0 and top["rule_position"] == 0.5 and top["median"] == "100000.00"
    # The five at ¥100,000 lie outside ¥65,000–85,000 but the reviewer accepted the reason: not counted.
    assert got["decided"] == 13 and got["outside"] == 0 and got["met"]


def test_small_groups_are_not_flagged_and_unexplained_deviations_count() -> None:
    rows = [("ordinary", 1, "330106", 75_000, 0)] * 8 + [("ordinary", 2, "330108", 100_000, 0)] * 4
    got = analytics.figures(cases(rows))
    assert got["flags"] == []  # 4 cases: too few to say
    assert got["outside"] == 4 and got["outside_pct"] == "33.33" and not got["met"]
    assert got["rules"] == [{"rule": "SP-124", "n": 12, "outside": 4, "median": "75000.00"}]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["lighter", "ordinary"]), st.integers(1, 3), st.just("330106"),
                          st.integers(50_000, 100_000), st.integers(0, 1)), min_size=1, max_size=40))
def test_the_rate_and_positions_stay_in_bounds(rows: list[tuple[str, int, str, int, int]]) -> None:
    got = analytics.figures(cases(rows))
    assert 0 <= got["outside"] <= got["decided"] == len(rows)
    assert all(0 <= x["position"] <= 1 for x in got["by_agency"])
    assert sum(x["n"] for x in got["by_agency"]) == len(rows)
