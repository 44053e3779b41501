"""The discretion engine: concrete scenarios across the tiers (quoted law, yuan to the fen), the SAMR
30 % tiers, deviations, and properties — a suggestion never leaves the legal range."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from jianguan.cases import discretion
from jianguan.core.errors import Invalid, NotFound

ON = dt.date(2026, 6, 1)
D = Decimal


def range_of(code: str, **facts: object) -> tuple[str, tuple[str, str] | None]:
    s = discretion.suggest(code, facts, on=ON).as_dict()
    return s["tier"], None if s["range"] is None else tuple(s["range"])


@pytest.mark.parametrize(("code", "facts", "tier", "span"), [
    # 产品质量法第四十九条: 1–3× goods value → SAMR's example 1–1.6×, 1.6–2.4×, 2.4–3×.
    ("CP-49", {"goods_value": "10000"}, "ordinary", ("16000.00", "24000.00")),
    ("CP-49", {"goods_value": "10000", "first_violation": True}, "lighter", ("10000.00", "16000.00")),
    ("CP-49", {"goods_value": "10000", "harm": "serious"}, "heavier", ("24000.00", "30000.00")),
    ("CP-49", {"goods_value": "10000", "first_violation": True, "harm": "严重"}, "ordinary",
     ("16000.00", "24000.00")),  # both kinds of circumstance: weighed together
    ("CP-49", {"goods_value": "10000", "coerced": True}, "mitigated", ("0.00", "10000.00")),
    ("CP-49", {"goods_value": "3333.33"}, "ordinary", ("5333.33", "7999.99")),
    # 产品质量法第五十条: 50 %–3× goods value.
    ("CP-50", {"goods_value": "2000"}, "ordinary", ("2500.00", "4500.00")),
    ("CP-50", {"goods_value": "2000", "affects_minors_or_elderly": True}, "heavier", ("4500.00", "6000.00")),
    # 食品安全法第一百二十四条: under ¥10,000 of goods → ¥50,000–100,000; from ¥10,000 → 10–20×.
    ("SP-124", {"goods_value": "9999.99"}, "ordinary", ("65000.00", "85000.00")),
    ("SP-124", {"goods_value": "10000"}, "ordinary", ("130000.00", "170000.00")),
    ("SP-124", {"goods_value": "8000", "first_violation": True}, "lighter", ("50000.00", "65000.00")),
    ("SP-124", {"goods_value": "20000", "repeat_within_years": 1}, "heavier", ("340000.00", "400000.00")),
    ("SP-124", {"goods_value": "20000", "repeat_within_years": 0}, "ordinary", ("260000.00", "340000.00")),
    ("SP-124", {"goods_value": "500", "meritorious": True}, "mitigated", ("0.00", "50000.00")),
    ("SP-122", {"goods_value": "0", "corrected_in_time": True}, "lighter", ("50000.00", "65000.00")),
    ("SP-122", {"goods_value": "15000", "during_emergency": True}, "heavier", ("255000.00", "300000.00")),
    ("SP-122", {"goods_value": "15000", "obstructed_inspection": True, "corrected_in_time": True}, "ordinary",
     ("195000.00", "255000.00")),
    # 食品安全法第一百二十六条 (拒不改正): ¥5,000–50,000; 首违不罚 when first, slight harm, corrected in time.
    ("SP-126-54", {"first_violation": True, "harm": "slight", "corrected_in_time": True}, "no_penalty", None),
    ("SP-126-54", {"first_violation": True, "harm": "general", "corrected_in_time": True}, "ordinary",
     ("18500.00", "36500.00")),
    ("SP-126-54", {"harm": "none"}, "lighter", ("5000.00", "18500.00")),
    ("SP-126-54", {"repeat_within_years": 2}, "heavier", ("36500.00", "50000.00")),
    # 广告法第五十五条: 3–5× the advertising fee; fee unknown → ¥200,000–1,000,000; three times in two years
    # or serious → 5–10×, or ¥1,000,000–2,000,000.
    ("GG-55", {"advertising_fee": "100000"}, "ordinary", ("360000.00", "440000.00")),
    ("GG-55", {"ad_fee_unknown_or_low": True, "first_violation": True}, "lighter", ("200000.00", "440000.00")),
    ("GG-55", {"advertising_fee": "100000", "violations_within_two_years": 3}, "ordinary",
     ("650000.00", "850000.00")),
    ("GG-55", {"ad_fee_unknown_or_low": True, "harm": "serious", "affects_minors_or_elderly": True}, "heavier",
     ("1700000.00", "2000000.00")),
    # 价格法第四十二条 (明码标价): up to ¥5,000; 首违不罚.
    ("JG-42", {}, "ordinary", ("1500.00", "3500.00")),
    ("JG-42", {"first_violation": True, "harm": "none", "corrected_in_time": True}, "no_penalty", None),
    ("JG-42", {"refused_to_rectify": True}, "heavier", ("3500.00", "5000.00")),
    # 特种设备安全法第八十三条 (¥10,000–100,000) and 第八十四条 (¥30,000–300,000).
    ("TZ-83-1", {"corrected_in_time": True}, "lighter", ("10000.00", "37000.00")),
    ("TZ-83-4", {"affects_minors_or_elderly": True}, "heavier", ("73000.00", "100000.00")),
    ("TZ-84-1", {}, "ordinary", ("111000.00", "219000.00")),
])
def test_scenarios(code: str, facts: dict[str, object], tier: str, span: tuple[str, str] | None) -> None:
    assert range_of(code, **facts) == (tier, span)


def test_the_suggestion_quotes_the_law_and_adds_revocation_when_heavier() -> None:
    heavy = discretion.suggest("SP-124", {"goods_value": "20000", "harm": "serious"}, on=ON)
    assert heavy.kinds == ("4", "5", "3", "8") and heavy.version == 1
    assert heavy.basis.startswith("违反《中华人民共和国食品安全法》第三十四条；"
                                  "依据《中华人民共和国食品安全法》第一百二十四条：")
    assert "货值金额不足一万元的，并处五万元以上十万元以下罚款" in heavy.basis
    assert heavy.reasons == ("危害后果严重",)
    assert discretion.suggest("SP-124", {"goods_value": "20000"}, on=ON).kinds == ("4", "5", "3")


def test_a_rule_asks_only_for_the_facts_it_uses() -> None:
    rule = discretion.rule_for("CP-49", ON)
    assert discretion.facts_of(rule) == ["goods_value", "first_violation", "repeat_within_years",
                                         "obstructed_inspection", "coerced", "meritorious", "eliminated_harm",
                                         "harm"]
    assert "advertising_fee" in discretion.facts_of(discretion.rule_for("GG-55", ON))


def test_bad_facts_are_named() -> None:
    with pytest.raises(Invalid) as bad:
        discretion.suggest("CP-49", {"goods_value": "一万", "harm": "有点", "colour": "red"}, on=ON)
    assert {bad.value.field, *(o.field for o in bad.value.others)} == {"goods_value", "harm", "colour"}
    with pytest.raises(Invalid):  # a float is never money
        discretion.suggest("CP-49", {"goods_value": 0.1}, on=ON)
    with pytest.raises(Invalid) as missing:
        discretion.suggest("CP-49", {}, on=ON)
    assert missing.value.field == "goods_value"
    with pytest.raises(NotFound):
        discretion.suggest("XX-1", {}, on=ON)
    with pytest.raises(Invalid):  # 食品安全法 as amended applies from 2025-12-01
        discretion.suggest("SP-124", {"goods_value": "1"}, on=dt.date(2025, 6, 1))


def test_a_choice_outside_the_suggestion_needs_a_reason_and_is_flagged() -> None:
    s = discretion.suggest("CP-49", {"goods_value": "10000"}, on=ON)
    assert discretion.check_choice(s, D("20000")) is False
    with pytest.raises(Invalid) as why:
        discretion.check_choice(s, D("12000"))
    assert why.value.field == "reason"
    assert discretion.check_choice(s, D("12000"), "当事人主动召回全部产品") is True
    with pytest.raises(Invalid) as outside:
        discretion.check_choice(s, D("30000.01"), "情节特别恶劣")
    assert outside.value.field == "amount"
    with pytest.raises(Invalid):  # below the minimum only in a 减轻 tier
        discretion.check_choice(s, D("9999.99"), "理由")
    mitigated = discretion.suggest("CP-49", {"goods_value": "10000", "coerced": True}, on=ON)
    assert discretion.check_choice(mitigated, D("6000")) is False


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(low=amounts, width=amounts, lighter=st.integers(0, 50), heavier=st.integers(0, 50))
def test_tiers_partition_the_legal_range_in_order(low: Decimal, width: Decimal, lighter: int, heavier: int) -> None:
    high = low + width
    tiers = discretion.tier_ranges(low, high, {"lighter": D(lighter), "heavier": D(heavier)})
    assert tiers["lighter"][0] == low and tiers["heavier"][1] == high
    assert tiers["lighter"][1] == tiers["ordinary"][0] and tiers["ordinary"][1] == tiers["heavier"][0]
    assert all(lo <= hi for lo, hi in tiers.values())


facts = st.fixed_dictionaries({"goods_value": amounts.map(str), "advertising_fee": amounts.map(str)}, optional={
    "ad_fee_unknown_or_low": st.booleans(), "violations_within_two_years": st.integers(1, 5),
    "first_violation": st.booleans(), "corrected_in_time": st.booleans(), "refused_to_rectify": st.booleans(),
    "repeat_within_years": st.integers(0, 5), "harm": st.sampled_from(["none", "slight", "general", "serious"]),
    "affects_minors_or_elderly": st.booleans(), "obstructed_inspection": st.booleans(),
    "during_emergency": st.booleans(), "eliminated_harm": st.booleans()})


@given(code=st.sampled_from(sorted(discretion.rules())), case=facts)
def test_a_suggestion_never_leaves_the_legal_range(code: str, case: dict[str, object]) -> None:
    s = discretion.suggest(code, case, on=ON)
    low, high = s.legal_range
    if s.range is None:
        assert s.tier == "no_penalty"
    elif s.tier == "mitigated":
        assert s.range == (D("0.00"), low)
    else:
        assert low <= s.range[0] <= s.range[1] <= high


def test_suggest_from_the_command_line(tmp_path: Path) -> None:
    from jianguan.cli import app

    file = tmp_path / "facts.json"
    file.write_text(json.dumps({"goods_value": "8000", "first_violation": True}), encoding="utf-8")
    done = CliRunner().invoke(app, ["discretion", "suggest", "--rule", "SP-124", "--facts", str(file),
                                    "--on", "2026-06-01", "--json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert (out["tier_name"], out["range"], out["legal_range"]) == ("从轻处罚", ["50000.00", "65000.00"],
                                                                      ["50000.00", "100000.00"])
    file.write_text("[1, 2]", encoding="utf-8")
    refused = CliRunner().invoke(app, ["discretion", "suggest", "--rule", "SP-124", "--facts", str(file)])
    assert refused.exit_code == 2
