"""Warning rules as data: the shipped file, and validation that names the field at fault."""

from __future__ import annotations

import copy
import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from jianguan.core.errors import Invalid
from jianguan.reference import laws
from jianguan.risk import rules

SURGE: dict[str, Any] = {
    "code": "FS-99",
    "name": "食品安全投诉举报激增",
    "kind": "window",
    "domain": "food",
    "level": "yellow",
    "basis": {"law": "food-safety-law", "article": "第一百一十五条"},
    "dedup_days": 14,
    "description": "近7日投诉日均超过前90日日均的3倍时预警。",
    "version": 1,
    "effective_from": dt.date(2026, 1, 1),
    "params": {
        "source": "events:complaint",
        "category": "food_safety",
        "agg": "count",
        "recent_days": 7,
        "baseline_days": 90,
        "factor": 3,
        "min_recent": 3,
    },
}


def changed(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SURGE)
    for key, value in changes.items():
        if key.startswith("params__"):
            name = key.removeprefix("params__")
            if value is None:
                data["params"].pop(name)
            else:
                data["params"][name] = value
        elif value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def fields_of(error: Invalid) -> list[str]:
    return [e.field for e in (error, *error.others)]


def refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(Invalid) as caught:
        rules.validate(data)
    return fields_of(caught.value)


# --------------------------------------------------------------------------- the shipped rules


def test_shipped_rules_load_and_there_are_at_least_twenty() -> None:
    shipped = rules.shipped()
    assert len(shipped) >= 20
    assert len({(r.code, r.version) for r in shipped}) == len(shipped)


def test_every_kind_is_shipped() -> None:
    assert {r.kind for r in rules.shipped()} == set(rules.KINDS)


def test_food_safety_has_twelve_rules_over_eight_indicators() -> None:
    food = [r for r in rules.shipped() if r.domain == "food"]
    indicators = set()
    for rule in food:
        p = rule.params
        indicators.add(
            getattr(p, "metric", None)
            or getattr(p, "source", None)
            or getattr(p, "event", None)
            or getattr(p, "attribute", None)
            or getattr(p, "left", None)
        )
    assert len(food) >= 12
    assert len(indicators - {None}) >= 8


def test_every_basis_cites_a_real_article_in_force_when_the_rule_starts() -> None:
    for rule in rules.shipped():
        article = laws.cite(rule.basis.law, rule.basis.article, on=rule.effective_from)
        assert article.text


def test_the_named_rules_of_the_plan_are_shipped() -> None:
    by_code = {r.code: r for r in rules.shipped()}
    surge = by_code["FS-01"]
    assert isinstance(surge, rules.WindowRule)
    assert (
        surge.params.source,
        surge.params.category,
        surge.params.recent_days,
        surge.params.baseline_days,
        surge.params.factor,
    ) == ("events:complaint", "food_safety", 7, 90, 3)
    drills = by_code["WS-04"]
    assert isinstance(drills, rules.ConsecutiveRule)
    assert (drills.level, drills.params.event, drills.params.equals, drills.params.count) == (
        "red",
        "drill",
        "missed",
        3,
    )
    assert any(r.kind == "level_change" and r.params.to == "red" for r in rules.shipped())


def test_every_rule_survives_a_round_trip_through_its_stored_form() -> None:
    for rule in rules.shipped():
        assert rules.validate(rules.to_data(rule)) == rule


def test_ecology_rules_cite_the_code_not_the_repealed_laws() -> None:
    for rule in rules.shipped():
        if rule.domain == "ecology":
            assert rule.basis.law == "ecological-environment-code"


# --------------------------------------------------------------------------- validation names the field


def test_a_valid_rule_is_accepted() -> None:
    rule = rules.validate(SURGE)
    assert isinstance(rule, rules.WindowRule)
    assert rule.params.min_recent == 3


def test_a_bad_kind_names_kind() -> None:
    assert refused(changed(kind="surge")) == ["kind"]
    assert refused(changed(kind=None)) == ["kind"]


def test_a_missing_param_names_it_under_params() -> None:
    assert refused(changed(params__recent_days=None)) == ["params.recent_days"]


def test_an_unknown_param_is_refused_by_name() -> None:
    assert refused(changed(params__window_days=7)) == ["params.window_days"]


def test_a_factor_without_min_recent_is_refused() -> None:
    assert refused(changed(params__min_recent=None)) == ["params.min_recent"]


def test_a_window_needs_exactly_one_of_factor_above_below() -> None:
    assert "params.factor" in refused(changed(params__above=5))


def test_events_are_only_counted() -> None:
    assert refused(changed(params__agg="sum")) == ["params.agg"]


def test_a_bad_source_is_refused() -> None:
    assert refused(changed(params__source="complaints")) == ["params.source"]


def test_an_unknown_article_names_the_article() -> None:
    assert refused(changed(basis={"law": "food-safety-law", "article": "第九百条"})) == ["basis.article"]


def test_an_unknown_law_names_the_law() -> None:
    assert refused(changed(basis={"law": "food-law", "article": "第一条"})) == ["basis.law"]


def test_a_law_repealed_before_the_rule_starts_is_refused() -> None:
    data = changed(
        domain="ecology", basis={"law": "water-pollution-law", "article": "第十条"}, effective_from=dt.date(2026, 9, 1)
    )
    with pytest.raises(Invalid) as caught:
        rules.validate(data)
    assert fields_of(caught.value) == ["basis.law"]
    assert "生态环境法典" in str(caught.value)


def test_a_bad_level_names_level() -> None:
    assert refused(changed(level="orange")) == ["level"]


def test_an_unknown_domain_names_domain() -> None:
    assert refused(changed(domain="food_safety")) == ["domain"]


def test_several_faults_are_named_together() -> None:
    assert set(refused(changed(level="orange", params__recent_days=0))) == {"level", "params.recent_days"}


def test_a_rule_ends_after_it_starts() -> None:
    assert refused(changed(effective_to=dt.date(2025, 12, 31))) == ["effective_to"]


def test_a_reminder_needs_days_before() -> None:
    data = changed(kind="expiry", params={"attribute": "licence_valid_until", "days_before": 0, "include_past": False})
    assert refused(data) == ["params.days_before"]


def test_a_consecutive_rule_needs_a_count_of_two_or_more() -> None:
    data = changed(kind="consecutive", params={"event": "drill", "equals": "missed", "count": 1})
    assert refused(data) == ["params.count"]


# --------------------------------------------------------------------------- loading and versions


def test_a_fault_in_a_file_names_the_file_line_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "- code: FS-98\n  name: 冷链温度超标\n  kind: threshold\n  domain: food\n  level: yellow\n"
        "  basis: {law: food-safety-law, article: 第三十三条}\n  dedup_days: 1\n  description: 冷链温度高于8℃。\n"
        "  version: 1\n  effective_from: 2026-01-01\n  params: {metric: cold_chain_temp, op: gt, value: 8}\n"
        "- code: FS-97\n  name: 冷链温度超标\n  kind: threshold\n  domain: food\n  level: purple\n"
        "  basis: {law: food-safety-law, article: 第三十三条}\n  dedup_days: 1\n  description: 冷链温度高于8℃。\n"
        "  version: 1\n  effective_from: 2026-01-01\n  params: {metric: cold_chain_temp, op: gt, value: 8}\n",
        encoding="utf-8",
    )
    with pytest.raises(Invalid) as caught:
        rules.load(path)
    assert caught.value.field == "level"
    assert "mine.yaml, line 12 (FS-97)" in str(caught.value)


def test_the_same_version_twice_is_refused(tmp_path: Path) -> None:
    text = resources.files("jianguan.risk").joinpath("data", "rules.yaml").read_text("utf-8")
    first = text.split("\n- code: FS-02")[0]
    path = tmp_path / "twice.yaml"
    path.write_text(first + "\n" + first[first.index("- code: FS-01") :], encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        rules.load(path)
    assert caught.value.field == "version"


def test_the_newest_version_in_force_is_used() -> None:
    v1 = rules.validate(SURGE)
    v2 = rules.validate(changed(version=2, effective_from=dt.date(2026, 7, 1), params__factor=4))
    retired = rules.validate(changed(code="FS-96", effective_to=dt.date(2026, 3, 1)))
    assert rules.in_force([v1, v2, retired], dt.date(2026, 2, 1)) == [retired, v1]
    assert rules.in_force([v1, v2, retired], dt.date(2026, 7, 1)) == [v2]
