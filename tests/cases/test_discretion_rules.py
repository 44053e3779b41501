"""The shipped discretion rules beyond the first ten: work safety, air and water (old law and 生态环境法典),
road transport, fire protection, more food, product, advertising. Each scenario's range is worked out by
hand from the imposing article and the 30 % shares (written here as literals, never recomputed with the
engine), with the tier, the penalty kinds and the quoted article; then the legal-time pick between the
repealed laws and the code, checks that every rule loads and cites real articles, and a property: for
every rule and any facts, the suggestion stays inside the legal range."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.cases import discretion
from jianguan.reference import laws
from jianguan.reference.data.value_domains import DOMAINS

OLD = dt.date(2026, 6, 1)  # under 大气污染防治法 / 水污染防治法
NEW = dt.date(2026, 9, 1)  # under 生态环境法典 (in force 2026-08-15)
D = Decimal

AQ = "《中华人民共和国安全生产法》"
DQ = "《中华人民共和国大气污染防治法》"
SW = "《中华人民共和国水污染防治法》"
FD = "《中华人民共和国生态环境法典》"
YS = "《中华人民共和国道路运输条例》"
XF = "《中华人民共和国消防法》"
SP = "《中华人民共和国食品安全法》"
CP = "《中华人民共和国产品质量法》"
GG = "《中华人民共和国广告法》"

# (code, day of the act, facts, tier, legal range, suggested range or None, kinds, article cited, words quoted)
SCENARIOS = [
    # 安全生产法第一百零三条: 违法所得十万元以上 → 2–5× the income: 400,000–1,000,000; width 600,000, 30 % = 180,000.
    ("AQ-103-1", OLD, {"illegal_income": "200000"}, "ordinary", (D("400000.00"), D("1000000.00")),
     (D("580000.00"), D("820000.00")), ("4", "3"), f"{AQ}第一百零三条",
     "违法所得十万元以上的，并处违法所得二倍以上五倍以下的罚款"),
    # …不足十万元 → 100,000–200,000; first violation: the lowest 30 % (100,000 + 30,000).
    ("AQ-103-1", OLD, {"illegal_income": "99999.99", "first_violation": True}, "lighter",
     (D("100000.00"), D("200000.00")), (D("100000.00"), D("130000.00")), ("4", "3"), f"{AQ}第一百零三条",
     "没有违法所得或者违法所得不足十万元的，单处或者并处十万元以上二十万元以下的罚款"),
    # 道路运输条例第六十三条第二项: income over ¥20,000 → 2–10×: 60,000–300,000; 30 % of 240,000 = 72,000.
    ("YS-63-2", OLD, {"illegal_income": "30000", "repeat_within_years": 1}, "heavier",
     (D("60000.00"), D("300000.00")), (D("228000.00"), D("300000.00")), ("4", "3"), f"{YS}第六十三条",
     "违法所得超过2万元的，没收违法所得，处违法所得2倍以上10倍以下的罚款"),
    # 第一项: exactly ¥10,000 is not "超过1万元": the fixed band; 情节严重 → 10,000–50,000 (30 % of 40,000 = 12,000).
    ("YS-63-1", OLD, {"illegal_income": "10000", "serious_circumstances": True}, "ordinary",
     (D("10000.00"), D("50000.00")), (D("22000.00"), D("38000.00")), ("4", "3"), f"{YS}第六十三条",
     "情节严重的，处1万元以上5万元以下的罚款"),
    # One fen over ¥10,000: 1–5× = 10,000.01–50,000.05; 30 % of 40,000.04 = 12,000.012 → 22,000.02 and 38,000.04.
    ("YS-63-1", OLD, {"illegal_income": "10000.01"}, "ordinary", (D("10000.01"), D("50000.05")),
     (D("22000.02"), D("38000.04")), ("4", "3"), f"{YS}第六十三条",
     "违法所得超过1万元的，没收违法所得，处违法所得1倍以上5倍以下的罚款"),
    # 食品安全法第一百二十三条: from ¥10,000 of goods 15–30×: 300,000–600,000; 从重 top 30 % and 吊销许可证.
    ("SP-123-1", OLD, {"goods_value": "20000", "harm": "serious"}, "heavier", (D("300000.00"), D("600000.00")),
     (D("510000.00"), D("600000.00")), ("4", "5", "3", "8"), f"{SP}第一百二十三条",
     "货值金额一万元以上的，并处货值金额十五倍以上三十倍以下罚款；情节严重的，吊销许可证"),
    # 消防法第六十五条第二款: 5,000–50,000; refused to rectify → 36,500–50,000 and 责令停产停业 when heavier.
    ("XF-65-2", OLD, {"refused_to_rectify": True}, "heavier", (D("5000.00"), D("50000.00")),
     (D("36500.00"), D("50000.00")), ("3", "9"), f"{XF}第六十五条",
     "逾期不改正的，处五千元以上五万元以下罚款"),
    # 首违不罚 (行政处罚法第三十三条): 安全生产法第九十七条第五项.
    ("AQ-97-5", OLD, {"first_violation": True, "harm": "slight", "corrected_in_time": True}, "no_penalty",
     (D("0.00"), D("100000.00")), None, (), f"{AQ}第九十七条",
     "（五）未将事故隐患排查治理情况如实记录或者未向从业人员通报的"),
    ("GG-62-2", OLD, {"first_violation": True, "harm": "none", "corrected_in_time": True}, "no_penalty",
     (D("5000.00"), D("30000.00")), None, (), f"{GG}第六十二条", "未显著标明关闭标志，确保一键关闭的"),
    # …but not for untrained special operators (第九十七条第七项): only 从轻, 0–30,000.
    ("AQ-97-7", OLD, {"first_violation": True, "harm": "slight", "corrected_in_time": True}, "lighter",
     (D("0.00"), D("100000.00")), (D("0.00"), D("30000.00")), ("3",), f"{AQ}第九十七条",
     "（七）特种作业人员未按照规定经专门的安全作业培训并取得相应资格，上岗作业的"),
    # 减轻 (行政处罚法第三十二条): below the minimum of 消防法第五十八条 (30,000–300,000).
    ("XF-58-4", OLD, {"coerced": True}, "mitigated", (D("30000.00"), D("300000.00")),
     (D("0.00"), D("30000.00")), ("9", "3"), f"{XF}第五十八条",
     "公众聚集场所未经消防救援机构许可，擅自投入使用、营业的"),
    # 减轻 under 法典第一千零五十六条 (有效采取生态环境修复措施): below 10,000 of 第一千一百二十八条.
    ("DQ-115-1", NEW, {"ecological_restoration": True}, "mitigated", (D("10000.00"), D("100000.00")),
     (D("0.00"), D("10000.00")), ("3",), f"{FD}第一千一百二十八条", "施工工地未设置硬质围挡"),
    # 无证排污: 大气污染防治法第九十九条 100,000–1,000,000 (30 % = 270,000) before 2026-08-15 …
    ("DQ-99-1", OLD, {}, "ordinary", (D("100000.00"), D("1000000.00")), (D("370000.00"), D("730000.00")), ("3",),
     f"{DQ}第九十九条", "（一）未依法取得排污许可证排放大气污染物的"),
    # … 法典第一千一百零二条 200,000–1,000,000 (30 % = 240,000) from that day.
    ("DQ-99-1", NEW, {}, "ordinary", (D("200000.00"), D("1000000.00")), (D("440000.00"), D("760000.00")), ("3",),
     f"{FD}第一千一百零二条",
     "未依法取得排污许可证排放污染物的，由生态环境主管部门责令改正，处二十万元以上一百万元以下的罚款"),
    # 超标排放: under half the limit again → 从轻; one time over the limit or more → 从重 (+ 停业、关闭 kind).
    ("DQ-99-2", OLD, {"exceedance_multiple": "0.3"}, "lighter", (D("100000.00"), D("1000000.00")),
     (D("100000.00"), D("370000.00")), ("3",), f"{DQ}第九十九条",
     "（二）超过大气污染物排放标准或者超过重点大气污染物排放总量控制指标排放大气污染物的"),
    ("DQ-99-2", NEW, {"exceedance_multiple": "1.5"}, "heavier", (D("100000.00"), D("1000000.00")),
     (D("730000.00"), D("1000000.00")), ("3", "9"), f"{FD}第一千一百零七条",
     "超过污染物排放标准或者超过重点污染物排放总量控制指标排放污染物的"),
    # One earlier penalty: 从重 under the old law, not yet "多次" under 法典第一千零五十六条.
    ("SW-83-2", OLD, {"repeat_within_years": 1}, "heavier", (D("100000.00"), D("1000000.00")),
     (D("730000.00"), D("1000000.00")), ("3", "9"), f"{SW}第八十三条",
     "（二）超过水污染物排放标准或者超过重点水污染物排放总量控制指标排放水污染物的"),
    ("SW-83-2", NEW, {"repeat_within_years": 1}, "ordinary", (D("100000.00"), D("1000000.00")),
     (D("370000.00"), D("730000.00")), ("3",), f"{FD}第一千一百零七条", "处十万元以上一百万元以下的罚款"),
    # 法典第一千一百三十六条: 从轻 and 从重 together → weighed, ordinary; 停业、关闭 only when heavier.
    ("SW-85-1", NEW, {"harm": "serious", "first_violation": True}, "ordinary", (D("100000.00"), D("1000000.00")),
     (D("370000.00"), D("730000.00")), ("3",), f"{FD}第一千一百三十六条", "（一）向水体排放油类、酸液、碱液"),
    ("DQ-118-1", NEW, {"first_violation": True, "harm": "slight", "corrected_in_time": True}, "no_penalty",
     (D("5000.00"), D("50000.00")), None, (), f"{FD}第一千一百三十二条", "处五千元以上五万元以下的罚款"),
    # 安全生产法第一百零九条: 50,000–100,000; 逾期未改正 → 100,000–200,000.
    ("AQ-109", OLD, {"overdue_uncorrected": True}, "ordinary", (D("100000.00"), D("200000.00")),
     (D("130000.00"), D("170000.00")), ("3",), f"{AQ}第一百零九条", "逾期未改正的，处十万元以上二十万元以下的罚款"),
    ("AQ-109", OLD, {"corrected_in_time": True}, "lighter", (D("50000.00"), D("100000.00")),
     (D("50000.00"), D("65000.00")), ("3",), f"{AQ}第一百零九条", "责令限期改正，处五万元以上十万元以下的罚款"),
    # 第九十九条 逾期未改正 50,000–200,000 (30 % = 45,000); 情节严重的，责令停产停业整顿.
    ("AQ-99-3", OLD, {"overdue_uncorrected": True, "harm": "serious"}, "heavier", (D("50000.00"), D("200000.00")),
     (D("155000.00"), D("200000.00")), ("3", "9"), f"{AQ}第九十九条", "逾期未改正的，处五万元以上二十万元以下的罚款"),
    # 广告法第五十八条: 1–3× the fee; 情节严重 3–5×, or ¥200,000–1,000,000 when the fee cannot be computed.
    ("GG-58-2", OLD, {"advertising_fee": "50000"}, "ordinary", (D("50000.00"), D("150000.00")),
     (D("80000.00"), D("120000.00")), ("3",), f"{GG}第五十八条", "处广告费用一倍以上三倍以下的罚款"),
    ("GG-58-2", OLD, {"ad_fee_unknown_or_low": True, "serious_circumstances": True}, "ordinary",
     (D("200000.00"), D("1000000.00")), (D("440000.00"), D("760000.00")), ("3",), f"{GG}第五十八条",
     "广告费用无法计算或者明显偏低的，处二十万元以上一百万元以下的罚款"),
    ("GG-58-2", OLD, {"advertising_fee": "50000", "serious_circumstances": True, "affects_minors_or_elderly": True},
     "heavier", (D("150000.00"), D("250000.00")), (D("220000.00"), D("250000.00")), ("3", "8"), f"{GG}第五十八条",
     "情节严重的，处广告费用三倍以上五倍以下的罚款"),
    # 广告法第六十三条: 违法所得五万元以上 → 1–3×: 60,000–180,000 (30 % = 36,000).
    ("GG-63", OLD, {"illegal_income": "60000"}, "ordinary", (D("60000.00"), D("180000.00")),
     (D("96000.00"), D("144000.00")), ("4", "3"), f"{GG}第六十三条",
     "违法所得五万元以上的，并处违法所得一倍以上三倍以下的罚款"),
    # 产品质量法第五十二条 (二倍以下) with 第五十五条: 0–10,000 → 从轻 0–3,000.
    ("CP-52", OLD, {"goods_value": "5000", "unaware_seller": True}, "lighter", (D("0.00"), D("10000.00")),
     (D("0.00"), D("3000.00")), ("5", "3", "4"), f"{CP}第五十二条", "并处违法销售产品货值金额二倍以下的罚款"),
    ("YS-64-22", OLD, {}, "ordinary", (D("200.00"), D("2000.00")), (D("740.00"), D("1460.00")), ("3",),
     f"{YS}第六十四条", "处200元以上2000元以下的罚款"),
    ("YS-68-1", OLD, {"repeat_within_years": 1}, "heavier", (D("1000.00"), D("2000.00")),
     (D("1700.00"), D("2000.00")), ("3", "8"), f"{YS}第六十八条",
     "不按批准的客运站点停靠或者不按规定的线路、公布的班次行驶的"),
    # 消防法第六十条 has no 首违不罚 for blocked exits: first, no harm, corrected → only 从轻.
    ("XF-60-3", OLD, {"first_violation": True, "harm": "none", "corrected_in_time": True}, "lighter",
     (D("5000.00"), D("50000.00")), (D("5000.00"), D("18500.00")), ("3",), f"{XF}第六十条",
     "（三）占用、堵塞、封闭疏散通道、安全出口或者有其他妨碍安全疏散行为的"),
    ("SP-125-2", OLD, {"goods_value": "10000"}, "ordinary", (D("50000.00"), D("100000.00")),
     (D("65000.00"), D("85000.00")), ("4", "5", "3"), f"{SP}第一百二十五条",
     "货值金额一万元以上的，并处货值金额五倍以上十倍以下罚款"),
]


@pytest.mark.parametrize(("code", "on", "facts", "tier", "legal", "span", "kinds", "article", "quoted"), SCENARIOS,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SCENARIOS)])
def test_scenarios(code: str, on: dt.date, facts: dict[str, object], tier: str, legal: tuple[Decimal, Decimal],
                   span: tuple[Decimal, Decimal] | None, kinds: tuple[str, ...], article: str, quoted: str) -> None:
    s = discretion.suggest(code, facts, on=on)
    assert (s.tier, s.legal_range, s.range, s.kinds) == (tier, legal, span, kinds)
    assert f"依据{article}：" in s.basis and quoted in s.basis.split(f"依据{article}：", 1)[1]
    assert s.reasons


def test_the_day_of_the_act_picks_the_old_law_or_the_code() -> None:
    before, after = dt.date(2026, 8, 14), dt.date(2026, 8, 15)  # 法典第一千二百四十二条: in force 2026-08-15
    for code in ("DQ-99-1", "DQ-99-2", "DQ-100-3", "DQ-115-1", "DQ-118-1", "SW-82-2", "SW-83-2", "SW-85-1"):
        old, new = discretion.rule_for(code, before), discretion.rule_for(code, after)
        assert (old.version, old.effective_to, new.version, new.effective_from) == (1, after, 2, after)
        assert old.imposing[0] in ("air-pollution-law", "water-pollution-law")
        assert new.violated[0] == new.imposing[0] == "ecological-environment-code"
        assert discretion.rule_for(code, OLD) == old and discretion.rule_for(code, NEW) == new
    old_s = discretion.suggest("DQ-115-1", {}, on=OLD)
    new_s = discretion.suggest("DQ-115-1", {}, on=NEW)
    assert old_s.basis.startswith(f"违反{DQ}第六十九条；依据{DQ}第一百一十五条：")
    assert new_s.basis.startswith(f"违反{FD}第二百四十条；依据{FD}第一千一百二十八条：")
    assert (old_s.version, new_s.version) == (1, 2)
    assert old_s.range == new_s.range == (D("37000.00"), D("73000.00"))  # same range 1万–10万 in both


def test_every_rule_loads_and_cites_articles_in_force() -> None:
    kinds = {code for spec in DOMAINS if spec[0] == "penalty_kind" for code, *_ in spec[3]}
    shipped = discretion.rules()
    assert len(shipped) >= 32
    for code, versions in shipped.items():
        assert [v.version for v in versions] == sorted({v.version for v in versions}, reverse=True), code
        for newer, older in itertools.pairwise(versions):  # back to back, never overlapping
            assert older.effective_to == newer.effective_from, code
        for rule in versions:
            assert rule.code == code and rule.title and rule.brackets
            for slug, article in (rule.violated, rule.imposing):
                cited = laws.cite(slug, article, on=rule.effective_from)  # exists and in force on day one
                if rule.effective_to is not None and cited.law.repealed_from is not None:
                    assert rule.effective_to <= cited.law.repealed_from, code
                assert cited.law.repealed_from is None or rule.effective_to is not None, code
            assert set(rule.kinds) | set(rule.heavier_kinds) <= kinds, code
            assert set(discretion.facts_of(rule)) <= set(discretion.facts()), code
            assert set(rule.conditions) <= {"no_penalty", "mitigated", "lighter", "heavier"}, code
            assert discretion.basis_text(rule)


money = st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False).map(str)
case_facts = st.fixed_dictionaries({"goods_value": money, "advertising_fee": money}, optional={
    "illegal_income": money, "exceedance_multiple": st.decimals(0, 20, places=2).map(str),
    "ad_fee_unknown_or_low": st.booleans(), "violations_within_two_years": st.integers(1, 5),
    "serious_circumstances": st.booleans(), "overdue_uncorrected": st.booleans(), "unaware_seller": st.booleans(),
    "ecological_restoration": st.booleans(), "first_violation": st.booleans(), "corrected_in_time": st.booleans(),
    "refused_to_rectify": st.booleans(), "repeat_within_years": st.integers(0, 5),
    "harm": st.sampled_from(["none", "slight", "general", "serious"]), "affects_minors_or_elderly": st.booleans(),
    "obstructed_inspection": st.booleans(), "during_emergency": st.booleans(), "eliminated_harm": st.booleans(),
    "coerced": st.booleans(), "meritorious": st.booleans()})


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(sorted(discretion.rules())), on=st.sampled_from([OLD, NEW]), case=case_facts)
def test_a_suggestion_never_leaves_the_legal_range(code: str, on: dt.date, case: dict[str, object]) -> None:
    s = discretion.suggest(code, case, on=on)
    low, high = s.legal_range
    assert D(0) <= low <= high
    rule = discretion.rule_for(code, on)
    if s.range is None:
        assert s.tier == "no_penalty" and s.kinds == ()
    elif s.tier == "mitigated":
        assert s.range == (D("0.00"), low) and s.kinds == rule.kinds
    else:
        assert low <= s.range[0] <= s.range[1] <= high
        assert s.kinds == rule.kinds + (rule.heavier_kinds if s.tier == "heavier" else ())
