"""The pure draw (algorithm jg-draw/1): reproducible, rule-abiding, proportionate, honest about shortfalls."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.inspections import sampling
from jianguan.inspections.sampling import Params, Person, Pool

RATIOS = {"red/B": "60", "yellow/B": "40", "blue/B": "20", "blue/C": "30", "-/-": "30"}
COUNTIES = ("330102", "330105", "330106")


def make_pool(n: int = 600, *, officers_per_county: int = 6, seed: int = 1, excluded_every: int = 0,
              forced_every: int = 0, recuse: bool = False) -> Pool:
    import random

    rng = random.Random(seed)
    strata = list(RATIOS)
    rows = []
    for i in range(1, n + 1):
        rows.append({"entity_id": i, "uscc": f"91330106MA{i:07d}X" if i % 7 else "",
                     "region": COUNTIES[i % len(COUNTIES)], "stratum": strata[rng.randrange(len(strata))],
                     "forced": "abnormal_list" if forced_every and i % forced_every == 0 else "",
                     "excluded": "closed" if excluded_every and i % excluded_every == 0 else ""})
    officers = []
    pid = 0
    for county in COUNTIES:
        for j in range(officers_per_county):
            pid += 1
            officers.append(Person(pid, county, ("food", "market") if j % 2 else ("food",), load=j % 3))
    officers.append(Person(999, "330100", ("food", "market")))  # a city officer covers every county
    recusals = {i: {1, 2, 999} for i in range(1, n + 1, 5)} if recuse else {}
    return Pool(pl.DataFrame(rows, schema=sampling.ENTITY_SCHEMA), officers, [], recusals)


def params(**kw: object) -> Params:
    base: dict[str, object] = {"ratios": RATIOS, "domains": ("food",), "workload_cap": 1000}
    return Params(**{**base, **kw})  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_draw_and_another_seed_another() -> None:
    pool = make_pool()
    seed = "2026-12-07 会议宣读 4711"
    a, b = sampling.run(pool, params(), seed), sampling.run(pool, params(), seed)
    assert a.hash == b.hash and a.text == b.text
    c = sampling.run(pool, params(), "4712")
    assert c.hash != a.hash
    assert set(c.selected["entity_id"]) != set(a.selected["entity_id"])


def test_strata_quotas_follow_the_ratios_exactly() -> None:
    pool = make_pool(excluded_every=11, forced_every=13)
    result = sampling.run(pool, params(), "s")
    eligible = pool.entities.filter((pl.col("excluded") == "") & (pl.col("forced") == ""))
    drawn = Counter(result.selected.filter(pl.col("reason") == "random")["stratum"].to_list())
    for stratum, n in Counter(eligible["stratum"].to_list()).items():
        expected = int((Decimal(n) * Decimal(RATIOS[stratum]) / 100).quantize(Decimal(1), "ROUND_HALF_UP"))
        assert drawn[stratum] == expected, stratum
    # Forced entities are all in, excluded ones never.
    ids = set(result.selected["entity_id"].to_list())
    assert set(pool.entities.filter((pl.col("forced") != "") & (pl.col("excluded") == ""))["entity_id"]) <= ids
    assert not ids & set(pool.entities.filter(pl.col("excluded") != "")["entity_id"])
    table = {s.stratum: s for s in result.strata}
    assert sum(s.excluded for s in table.values()) == pool.entities.filter(pl.col("excluded") != "").height


def test_a_count_is_met_exactly_and_a_ratio_of_the_pool_too() -> None:
    pool = make_pool()
    by_count = sampling.run(pool, params(target_count=77), "x")
    assert by_count.selected.height == 77
    by_ratio = sampling.run(pool, params(target_ratio="10"), "x")
    assert by_ratio.selected.height == 60  # 10 % of 600
    # Weighted: red (60 %) entities are three times as likely as blue/B (20 %) ones.
    counts = Counter(by_count.selected["stratum"].to_list())
    sizes = Counter(pool.entities["stratum"].to_list())
    assert counts["red/B"] / sizes["red/B"] > 2 * counts["blue/B"] / sizes["blue/B"]


def test_every_entity_of_a_stratum_is_equally_likely_over_many_seeds() -> None:
    """Within a stratum the draw is uniform: inclusion frequencies stay within 5 binomial sigmas."""
    pool = make_pool(n=120)
    seeds = 300
    hits: Counter[int] = Counter()
    for s in range(seeds):
        hits.update(sampling.select(pool, params(), f"seed-{s}")[0]["entity_id"].to_list())
    for stratum, frame in pool.entities.group_by("stratum"):
        n = frame.height
        quota = sampling.round_half_up(Fraction(n) * Fraction(RATIOS[str(stratum[0])]) / 100)
        p = quota / n
        sigma = (seeds * p * (1 - p)) ** 0.5
        for entity_id in frame["entity_id"].to_list():
            assert abs(hits[entity_id] - seeds * p) <= 5 * sigma + 1, (stratum, entity_id, hits[entity_id])


@settings(max_examples=60, deadline=None)
@given(seed=st.text(min_size=1, max_size=20), n=st.integers(20, 300), per_county=st.integers(2, 8),
       recuse=st.booleans(), cap=st.integers(3, 60), domains=st.sampled_from([("food",), ("food", "market")]))
def test_every_team_obeys_the_rules_or_the_shortfall_is_reported(seed: str, n: int, per_county: int,
                                                                 recuse: bool, cap: int,
                                                                 domains: tuple[str, ...]) -> None:
    pool = make_pool(n, officers_per_county=per_county, recuse=recuse)
    result = sampling.run(pool, params(domains=domains, workload_cap=cap), seed)
    again = sampling.run(sampling.parse_pool(sampling.pool_text(pool)), params(domains=domains, workload_cap=cap),
                         seed)
    assert again.hash == result.hash
    people = {p.id: p for p in pool.officers}
    region_of = dict(result.selected.select("entity_id", "region").iter_rows())
    teams: dict[tuple[int, str], list[int]] = {}
    for a in result.assignments:
        teams.setdefault((a.entity_id, a.domain), []).append(a.person_id)
        officer = people[a.person_id]
        assert a.domain in officer.domains
        assert officer.region in sampling.covering_regions(region_of[a.entity_id])
        assert a.person_id not in pool.recusals.get(a.entity_id, set())
    load = Counter(a.person_id for a in result.assignments)
    for pid, extra in load.items():
        assert people[pid].load + extra <= cap
    short = {(s.entity_id, s.domain) for s in result.shortfalls}
    for entity_id in result.selected["entity_id"].to_list():
        members = [pid for d in domains for pid in teams.get((entity_id, d), [])]
        assert len(members) == len(set(members)), "one officer twice in a team"
        for d in domains:
            if (entity_id, d) not in short:
                assert len(teams[(entity_id, d)]) == 2
            else:
                assert len(teams.get((entity_id, d), [])) < 2


def test_loads_are_balanced() -> None:
    pool = make_pool(900, officers_per_county=5)
    pool.officers = [Person(p.id, p.region, p.domains, 0) for p in pool.officers if p.id != 999]
    result = sampling.run(pool, params(target_count=300), "b")
    assert not result.shortfalls
    per_county: dict[str, list[int]] = {}
    load = Counter(a.person_id for a in result.assignments)
    for p in pool.officers:
        per_county.setdefault(p.region, []).append(load[p.id])
    for loads in per_county.values():
        assert max(loads) - min(loads) <= 1


def test_too_few_officers_is_a_shortfall_not_a_broken_rule() -> None:
    pool = make_pool(60, officers_per_county=1)
    pool.officers = [p for p in pool.officers if p.id != 999]
    result = sampling.run(pool, params(), "s")
    assert result.shortfalls
    assert all(s.available < s.needed for s in result.shortfalls)
    teams = Counter((a.entity_id, a.domain) for a in result.assignments)
    assert max(teams.values()) == 1


def test_experts_need_a_big_enough_pool() -> None:
    pool = make_pool(60)
    pool.experts = [Person(i, "", ("food",)) for i in range(1, 11)]
    result = sampling.run(pool, params(expert_count=1), "s")
    assert [s.role for s in result.shortfalls] == ["expert_pool"]
    assert result.shortfalls[0].available == 10
    ok = sampling.run(pool, params(expert_count=1, expert_min_pool=10), "s")
    assert not ok.shortfalls
    experts = [a for a in ok.assignments if a.role == "expert"]
    assert len(experts) == ok.selected.height
    spread = Counter(a.person_id for a in experts)
    assert max(spread.values()) - min(spread.values()) <= 1


@settings(max_examples=200, deadline=None)
@given(sizes=st.dictionaries(st.sampled_from(list(RATIOS)), st.integers(0, 500), min_size=1),
       total=st.integers(0, 2000), weighted=st.booleans())
def test_quotas_share_out_the_total_exactly_and_fairly(sizes: dict[str, int], total: int, weighted: bool) -> None:
    ratios = {s: Decimal(RATIOS[s]) for s in sizes}
    q = sampling.quotas(sizes, ratios, total=total, weighted=weighted)
    assert sum(q.values()) == min(total, sum(sizes.values()))
    assert all(0 <= q[s] <= sizes[s] for s in sizes)
    # A stratum below its size got its proportional share, rounded either way.
    w = {s: (ratios[s] if weighted else 1) for s in sizes}
    uncapped = [s for s in sizes if q[s] < sizes[s]]
    for a in uncapped:
        for b in uncapped:
            if sizes[a] and sizes[b]:
                # Moving one unit from a to b would not make the shares per weight any fairer.
                assert Fraction(q[a] - 1, sizes[a]) / Fraction(w[a]) <= Fraction(q[b] + 1, sizes[b]) / Fraction(w[b])


def test_a_stratum_without_a_ratio_is_an_error() -> None:
    with pytest.raises(ValueError, match="no sampling ratio"):
        sampling.run(make_pool(), params(ratios={"red/B": "60"}), "s")
