"""Warning rules evaluated over crafted frames: each kind fires when it should and not otherwise, the
back-test's dedup window and lead times, and the back-test agreeing with day-by-day evaluation."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from jianguan.core.errors import Invalid
from jianguan.risk import evaluate as ev
from jianguan.risk import rules
from jianguan.risk.rules import RuleSpec

AS_OF = dt.date(2026, 10, 20)
SHIPPED = {r.code: r for r in rules.shipped()}


def day(n: int) -> dt.date:
    """``n`` days before AS_OF."""
    return AS_OF - dt.timedelta(days=n)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def events(*rows: tuple[int, str, str, dt.date, str]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ev.SCHEMAS["events"], orient="row")


def readings(*rows: tuple[int, str, dt.datetime, float]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ev.SCHEMAS["readings"], orient="row")


def attributes(*rows: tuple[int, str, dt.date]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ev.SCHEMAS["attributes"], orient="row")


def periods(*rows: tuple[int, str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ev.SCHEMAS["periods"], orient="row")


def levels(*rows: tuple[int, dt.date, str, str]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ev.SCHEMAS["levels"], orient="row")


def complaints(
    entity: int, *days_before: int, category: str = "food_safety"
) -> list[tuple[int, str, str, dt.date, str]]:
    return [(entity, "complaint", category, day(n), "") for n in days_before]


def make(kind: str, params: dict[str, Any], **common: Any) -> RuleSpec:
    data = {
        "code": "T-01",
        "name": "测试规则",
        "kind": kind,
        "domain": "food",
        "level": "yellow",
        "basis": {"law": "food-safety-law", "article": "第三十三条"},
        "dedup_days": 0,
        "description": "测试用的预警规则。",
        "version": 1,
        "effective_from": dt.date(2026, 1, 1),
        "params": params,
        **common,
    }
    return rules.validate(data)


def fired(rule: RuleSpec, on: dt.date = AS_OF, **frames: pl.DataFrame) -> pl.DataFrame:
    return ev.evaluate([rule], as_of=on, **frames)


def entities(result: pl.DataFrame) -> list[int]:
    return sorted(result["entity_id"].to_list())


# --------------------------------------------------------------------------- window


def test_a_complaint_surge_fires_with_the_figures_in_the_detail() -> None:
    frame = events(*complaints(1, 0, 1, 2, 3, 4, 40, 70, 100))  # 5 in 7 days; 2 in the 90 before; one older
    result = fired(SHIPPED["FS-01"], events=frame)
    assert result.select("rule_code", "entity_id", "fired_on", "threshold").row(0) == ("FS-01", 1, AS_OF, 3.0)
    assert result["value"][0] == pytest.approx((5 / 7) / (2 / 90))
    assert result["detail"][0] == "近7日食品安全投诉举报5件，为前90日日均的32.1倍"


def test_steady_complaints_do_not_fire() -> None:
    frame = events(*complaints(1, *range(0, 120, 3)))
    assert fired(SHIPPED["FS-01"], events=frame).is_empty()


def test_a_few_complaints_against_an_empty_baseline_do_not_fire() -> None:
    assert fired(SHIPPED["FS-01"], events=events(*complaints(1, 0, 3))).is_empty()  # min_recent 3


def test_enough_complaints_against_an_empty_baseline_fire_without_a_ratio() -> None:
    result = fired(SHIPPED["FS-01"], events=events(*complaints(1, 0, 3, 6)))
    assert result["value"].to_list() == [None]
    assert result["detail"][0] == "近7日食品安全投诉举报3件，前90日无记录"


def test_complaints_of_another_category_or_outside_the_days_do_not_count() -> None:
    frame = events(
        *complaints(1, 0, 1, 2, 3, category="price"), *complaints(2, 7, 8, 9, 10), *complaints(3, -1, -2, -3)
    )
    assert fired(SHIPPED["FS-01"], events=frame).is_empty()


def test_two_failed_sampling_tests_in_180_days_fire_one_does_not() -> None:
    frame = events(
        (1, "sampling", "", day(10), "fail"),
        (1, "sampling", "", day(170), "fail"),
        (2, "sampling", "", day(10), "fail"),
        (2, "sampling", "", day(11), "pass"),
        (3, "sampling", "", day(10), "fail"),
        (3, "sampling", "", day(200), "fail"),
    )
    result = fired(SHIPPED["FS-03"], events=frame)
    assert entities(result) == [1]
    assert result["detail"][0] == "近180日监督抽检不合格2批次，超过1批次"


def test_a_monitoring_gap_fires_for_a_source_that_was_reporting() -> None:
    def hourly(entity: int, on: dt.date, hours: int) -> list[tuple[int, str, dt.datetime, float]]:
        begins = dt.datetime.combine(on, dt.time(), dt.UTC) - dt.timedelta(hours=8)  # Beijing midnight
        return [(entity, "cod_mg_l", begins + dt.timedelta(hours=h), 30.0) for h in range(hours)]

    frame = readings(
        *hourly(1, day(5), 24),
        *hourly(1, AS_OF, 12),  # reporting, then a gap
        *hourly(2, day(5), 24),
        *hourly(2, AS_OF, 24),  # complete
        *hourly(3, AS_OF, 3),
    )  # new: nothing to compare with
    result = fired(SHIPPED["EC-04"], readings=frame)
    assert entities(result) == [1]
    assert (result["value"][0], result["threshold"][0]) == (12.0, 20.0)
    assert result["detail"][0] == "近1日化学需氧量排放浓度监测数据仅12条，低于20条"


def test_a_falling_mean_fires() -> None:
    scores = [(1, "hygiene_score", at(f"2026-{m:02d}-10T02:00:00"), 90.0) for m in (1, 3, 5, 6)]
    scores += [(1, "hygiene_score", at("2026-10-10T02:00:00"), 60.0)]
    scores += [(2, "hygiene_score", at(f"2026-{m:02d}-10T02:00:00"), 90.0) for m in (1, 3, 5, 6, 10)]
    result = fired(SHIPPED["FS-09"], readings=readings(*scores))
    assert entities(result) == [1]
    assert result["value"][0] == pytest.approx(60 / 90)
    assert result["detail"][0] == "近90日食品安全检查评分均值60分，为前365日均值的0.7倍"


# --------------------------------------------------------------------------- threshold


def test_a_threshold_fires_only_with_min_count_readings_within_the_window() -> None:
    frame = readings(
        (1, "cold_chain_temp", at("2026-10-20T01:00:00"), 9.0),
        (1, "cold_chain_temp", at("2026-10-20T03:00:00"), 12.5),
        (1, "cold_chain_temp", at("2026-10-20T05:00:00"), 10.0),  # three above 8 within hours
        (2, "cold_chain_temp", at("2026-10-20T01:00:00"), 9.0),
        (2, "cold_chain_temp", at("2026-10-20T03:00:00"), 8.0),
        (2, "cold_chain_temp", at("2026-10-20T05:00:00"), 10.0),  # 8.0 is not above 8
        (3, "cold_chain_temp", at("2026-10-18T01:00:00"), 9.0),
        (3, "cold_chain_temp", at("2026-10-18T03:00:00"), 9.0),
        (3, "cold_chain_temp", at("2026-10-20T05:00:00"), 9.0),  # three, but not within 24 hours
        (4, "cod_mg_l", at("2026-10-20T05:00:00"), 90.0),
    )
    result = fired(SHIPPED["FS-02"], readings=frame)
    assert entities(result) == [1]
    assert (result["value"][0], result["threshold"][0]) == (12.5, 8.0)
    assert result["detail"][0] == "24小时内冷链温度3次高于8℃，最高12.5℃"


def test_a_reading_belongs_to_its_beijing_day() -> None:
    rule = make("threshold", {"metric": "cold_chain_temp", "op": "gt", "value": 8})
    evening = readings((1, "cold_chain_temp", at("2026-10-19T17:00:00"), 9.0))  # 01:00 on the 20th in Beijing
    late = readings((1, "cold_chain_temp", at("2026-10-20T16:30:00"), 9.0))  # 00:30 on the 21st
    assert entities(fired(rule, readings=evening)) == [1]
    assert fired(rule, readings=late).is_empty()
    assert entities(fired(rule, on=day(-1), readings=late)) == [1]


def test_a_lower_limit_reports_the_lowest_reading() -> None:
    rule = make("threshold", {"metric": "hygiene_score", "op": "lt", "value": 60, "unit": "分"})
    frame = readings(
        (1, "hygiene_score", at("2026-10-20T02:00:00"), 55.0), (1, "hygiene_score", at("2026-10-20T03:00:00"), 41.5)
    )
    result = fired(rule, readings=frame)
    assert result["value"][0] == 41.5
    assert result["detail"][0] == "24小时内食品安全检查评分2次低于60分，最低41.5分"


# --------------------------------------------------------------------------- consecutive


def drills(entity: int, *outcomes: str) -> list[tuple[int, str, str, dt.date, str]]:
    return [(entity, "drill", "", day(30 * (len(outcomes) - i)), o) for i, o in enumerate(outcomes)]


def test_three_consecutive_missed_drills_fire_red() -> None:
    result = fired(SHIPPED["WS-04"], events=events(*drills(1, "done", "missed", "missed", "missed")))
    assert entities(result) == [1]
    assert SHIPPED["WS-04"].level == "red"
    assert result["detail"][0] == "最近连续3次生产安全事故应急演练未按计划开展"


def test_missed_done_missed_missed_does_not_fire() -> None:
    assert fired(SHIPPED["WS-04"], events=events(*drills(1, "missed", "done", "missed", "missed"))).is_empty()


def test_only_the_events_within_the_days_count() -> None:
    rule = make("consecutive", {"event": "drill", "equals": "missed", "count": 3, "within_days": 100})
    old = events(*drills(1, "missed", "missed", "missed", "missed"))  # 120, 90, 60, 30 days ago
    result = fired(rule, events=old)
    assert result["value"].to_list() == [3.0]
    rule = make("consecutive", {"event": "drill", "equals": "missed", "count": 3, "within_days": 70})
    assert fired(rule, events=old).is_empty()


# --------------------------------------------------------------------------- expiry


def test_expiry_fires_the_day_after_the_date_not_on_it() -> None:
    rule = SHIPPED["SE-01"]
    assert fired(rule, attributes=attributes((1, "equipment_inspection_due", AS_OF))).is_empty()
    result = fired(rule, attributes=attributes((1, "equipment_inspection_due", day(1))))
    assert (result["value"][0], result["detail"][0]) == (-1.0, "特种设备定期检验有效期至2026-10-19，已逾期1日")


def test_a_reminder_fires_within_days_before_and_stops_after_the_date() -> None:
    rule = SHIPPED["FS-05"]  # 30 days before, reminder only
    due = lambda n: attributes((1, "licence_valid_until", day(-n)))  # noqa: E731
    assert fired(rule, attributes=due(30)).is_empty()
    assert fired(rule, attributes=due(29))["detail"].to_list() == ["食品经营许可证有效期至2026-11-18，还剩29日"]
    assert fired(rule, attributes=due(0))["detail"].to_list() == ["食品经营许可证有效期至2026-10-20，今日届满"]
    assert fired(rule, attributes=due(-1)).is_empty()
    assert entities(fired(SHIPPED["FS-04"], attributes=due(-1))) == [1]


def test_the_earliest_of_several_items_is_shown() -> None:
    frame = attributes(
        (1, "equipment_inspection_due", day(3)),
        (1, "equipment_inspection_due", day(12)),
        (1, "equipment_inspection_due", day(-40)),
        (2, "licence_valid_until", day(5)),
    )
    result = fired(SHIPPED["SE-01"], attributes=frame)
    assert result["detail"].to_list() == ["特种设备定期检验有效期至2026-10-08，已逾期12日（共2项）"]


# --------------------------------------------------------------------------- mismatch


def test_electricity_against_declared_output_inside_and_outside_tolerance() -> None:
    frame = periods(
        (1, "2026-09", "electricity_kwh", 500_000.0),
        (1, "2026-09", "declared_output", 1000.0),  # 500: fine
        (2, "2026-09", "electricity_kwh", 1_520_300.0),
        (2, "2026-09", "declared_output", 1000.0),  # 1520.3
        (3, "2026-09", "electricity_kwh", 120_000.0),
        (3, "2026-09", "declared_output", 0.0),  # "stopped"
        (4, "2026-10", "electricity_kwh", 120_000.0),
        (4, "2026-10", "declared_output", 0.0),  # not over yet
        (5, "2026-07", "electricity_kwh", 120_000.0),
        (5, "2026-07", "declared_output", 0.0),
    )  # stale
    result = fired(SHIPPED["EC-03"], periods=frame)
    assert entities(result) == [2, 3]
    assert result["detail"].to_list() == [
        "2026-09用电量与申报产量之比为1520.3（预期450±225）",
        "2026-09申报产量为0，用电量120000千瓦时",
    ]
    assert result["value"].to_list() == [pytest.approx(1520.3), None]


def test_only_the_latest_ended_period_counts() -> None:
    frame = periods(
        (1, "2026-08", "electricity_kwh", 0.0),
        (1, "2026-08", "declared_output", 1000.0),
        (1, "2026-09", "electricity_kwh", 450_000.0),
        (1, "2026-09", "declared_output", 1000.0),
    )
    assert fired(SHIPPED["EC-03"], periods=frame).is_empty()


def test_a_subsidy_per_head_is_checked_on_the_last_quarter() -> None:
    frame = periods(
        (1, "2026Q3", "subsidy", 90.0),  # 万元: 7.5 万元 a head
        (1, "2026Q3", "headcount", 12.0),
        (2, "2026Q3", "subsidy", 3.0),  # 0.15 万元 a head: as expected
        (2, "2026Q3", "headcount", 20.0),
    )
    result = fired(SHIPPED["DC-01"], periods=frame)
    assert entities(result) == [1]
    assert result["value"][0] == pytest.approx(7.5)


# --------------------------------------------------------------------------- level change


def test_a_move_up_to_red_fires_a_move_down_does_not() -> None:
    frame = levels(
        (1, AS_OF, "yellow", "red"),
        (2, AS_OF, "red", "yellow"),
        (3, AS_OF, "blue", "yellow"),
        (4, day(1), "blue", "red"),
    )
    result = fired(SHIPPED["RL-01"], levels=frame)
    assert entities(result) == [1]
    assert result["detail"][0] == "2026-10-20风险等级由黄色升为红色"
    any_move = make("level_change", {})
    assert entities(fired(any_move, levels=frame)) == [1, 3]


# --------------------------------------------------------------------------- evaluate, in general


def test_only_rules_in_force_are_evaluated_and_the_version_is_recorded() -> None:
    base = {"metric": "cold_chain_temp", "op": "gt", "value": 8}
    old = make("threshold", base)
    new = make("threshold", {**base, "value": 10}, version=2, effective_from=dt.date(2026, 10, 1))
    later = make("threshold", base, code="T-02", effective_from=dt.date(2026, 11, 1))
    frame = readings(
        (1, "cold_chain_temp", at("2026-10-20T02:00:00"), 11.0), (2, "cold_chain_temp", at("2026-10-20T02:00:00"), 9.0)
    )
    result = ev.evaluate([old, new, later], as_of=AS_OF, readings=frame)
    assert result.select("rule_code", "rule_version", "entity_id").rows() == [("T-01", 2, 1)]


def test_no_frames_no_warnings_and_the_columns_are_fixed() -> None:
    result = ev.evaluate(rules.shipped(), as_of=AS_OF)
    assert result.is_empty()
    assert result.schema == pl.Schema(ev.FIRED)


def test_a_frame_without_its_columns_is_refused_by_name() -> None:
    with pytest.raises(Invalid) as caught:
        ev.evaluate(rules.shipped(), as_of=AS_OF, events=pl.DataFrame({"entity_id": [1], "kind": ["complaint"]}))
    assert caught.value.field == "events"
    assert "occurred_on" in str(caught.value)


def test_naive_timestamps_are_taken_as_utc() -> None:
    rule = make("threshold", {"metric": "cold_chain_temp", "op": "gt", "value": 8})
    frame = pl.DataFrame(
        {"entity_id": [1], "metric": ["cold_chain_temp"], "measured_at": [dt.datetime(2026, 10, 19, 17)], "value": [9]}
    )
    assert entities(fired(rule, readings=frame)) == [1]


def test_repeats_inside_the_dedup_window_are_suppressed() -> None:
    today = fired(
        SHIPPED["FS-01"], events=events(*complaints(1, 0, 1, 2), *complaints(2, 0, 1, 2), *complaints(3, 0, 1, 2))
    )
    previous = pl.DataFrame(
        {"rule_code": ["FS-01", "FS-01", "FS-01"], "entity_id": [1, 2, 3], "fired_on": [day(13), day(14), AS_OF]}
    )
    kept = ev.suppress_repeats(today, previous=previous, rules=rules.shipped())
    assert entities(kept) == [2]  # 13 days ago is inside 14; 14 days ago is not; today is a re-run


# --------------------------------------------------------------------------- back-test


def test_the_backtest_raises_the_first_firing_then_none_for_the_dedup_days() -> None:
    rule = make("threshold", {"metric": "cold_chain_temp", "op": "gt", "value": 8}, dedup_days=7)
    frame = readings(*[(1, "cold_chain_temp", at(f"2026-10-{d:02d}T02:00:00"), 9.0) for d in range(1, 21)])
    result = ev.backtest(rule, start=dt.date(2026, 10, 1), end=AS_OF, readings=frame)
    assert result.warnings["fired_on"].to_list() == [dt.date(2026, 10, 1), dt.date(2026, 10, 8), dt.date(2026, 10, 15)]
    assert result.count == result.summary["warnings"] == 3


def test_the_backtest_measures_the_lead_time_to_the_outcome() -> None:
    frame = events(*complaints(1, 20, 21, 22))  # the third on 2026-09-30: fires that day and the 4 after
    outcomes = pl.DataFrame(
        {
            "entity_id": [1, 1],
            "occurred_on": [dt.date(2026, 10, 5), dt.date(2026, 10, 11)],
            "kind": ["inspection_failed", "incident"],
        }
    )
    result = ev.backtest(SHIPPED["FS-01"], start=dt.date(2026, 9, 1), end=AS_OF, events=frame, outcomes=outcomes)
    row = result.warnings.row(0, named=True)
    assert (row["fired_on"], row["outcome_on"], row["outcome_kind"], row["lead_days"]) == (
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 5),
        "inspection_failed",
        5,
    )
    assert result.summary == {
        "rule_code": "FS-01",
        "rule_version": 1,
        "days": 50,
        "warnings": 1,
        "entities": 1,
        "followed_by_outcome": 1,
        "precision": 1.0,
        "lead_days_median": 5.0,
        "lead_days_share_3_to_7": 1.0,
    }


def test_outcomes_the_same_day_or_after_the_horizon_do_not_count() -> None:
    frame = events(*complaints(1, 20, 21, 22), *complaints(2, 20, 21, 22))
    outcomes = pl.DataFrame(
        {
            "entity_id": [1, 1, 2],
            "occurred_on": [dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 10, 3)],
            "kind": ["incident", "incident", "inspection_failed"],
        }
    )
    result = ev.backtest(SHIPPED["FS-01"], start=dt.date(2026, 9, 1), end=AS_OF, events=frame, outcomes=outcomes)
    assert result.warnings["lead_days"].to_list() == [None, 3]
    assert (result.summary["precision"], result.summary["lead_days_share_3_to_7"]) == (0.5, 1.0)


def test_a_backtest_ends_after_it_starts() -> None:
    with pytest.raises(Invalid):
        ev.backtest(SHIPPED["FS-01"], start=AS_OF, end=day(1))


def random_frames(seed: int) -> dict[str, pl.DataFrame]:
    """A small province: a few entities with every kind of data, scattered over the months before AS_OF."""
    rnd = random.Random(seed)
    ents = range(1, 7)
    kinds = [
        ("complaint", "food_safety", ""),
        ("complaint", "price", ""),
        ("opinion", "food_safety", "negative"),
        ("sampling", "", "fail"),
        ("sampling", "", "pass"),
        ("drill", "", "missed"),
        ("drill", "", "done"),
        ("self_inspection", "", "missed"),
        ("training", "", "missed"),
        ("fire_system", "", "fault"),
        ("foodborne_illness", "", ""),
        ("kitchen_alert", "", ""),
        ("rapid_test", "", "positive"),
    ]
    ev_rows = [(rnd.choice(ents), *k[:2], day(rnd.randint(-5, 400)), k[2]) for k in rnd.choices(kinds, k=900)]
    metrics = {
        "cold_chain_temp": (4, 14),
        "cod_mg_l": (20, 70),
        "so2_mg_m3": (10, 60),
        "tank_pressure_ratio": (0.6, 1.2),
        "hygiene_score": (40, 100),
    }
    rd_rows = []
    for _ in range(3000):
        metric = rnd.choice(list(metrics))
        when = dt.datetime.combine(day(rnd.randint(-2, 120)), dt.time(), dt.UTC) + dt.timedelta(
            minutes=rnd.randint(0, 1439)
        )
        rd_rows.append((rnd.choice(ents), metric, when, rnd.uniform(*metrics[metric])))
    names = [
        "licence_valid_until",
        "health_certificate_valid_until",
        "rectification_due",
        "equipment_inspection_due",
        "hidden_danger_due",
    ]
    at_rows = [(rnd.choice(ents), rnd.choice(names), day(rnd.randint(-60, 60))) for _ in range(40)]
    pe_rows = []
    for entity in ents:
        for period in ("2026-06", "2026-07", "2026-08", "2026-09", "2026Q2", "2026Q3", "2025"):
            for metric in ("electricity_kwh", "declared_output", "subsidy_yuan", "insured_headcount", "revenue_yuan"):
                if rnd.random() < 0.8:
                    pe_rows.append((entity, period, metric, float(rnd.choice([0, 1, 5, 50, 500, 5000, 500000]))))
    names_l = ["blue", "yellow", "red"]
    lv_rows = [(rnd.choice(ents), day(rnd.randint(0, 40)), rnd.choice(names_l), rnd.choice(names_l)) for _ in range(30)]
    return {
        "events": events(*ev_rows),
        "readings": readings(*rd_rows),
        "attributes": attributes(*at_rows),
        "periods": periods(*pe_rows),
        "levels": levels(*lv_rows),
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_the_backtest_agrees_with_evaluating_every_day(seed: int) -> None:
    frames = random_frames(seed)
    start, end = day(14), AS_OF
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    fired_kinds = set()
    for rule in rules.shipped():
        every_day = rule.model_copy(update={"dedup_days": 0, "effective_from": dt.date(2020, 1, 1)})
        daily = pl.concat([ev.evaluate([every_day], as_of=d, **frames) for d in days])
        backtested = ev.backtest(every_day, start=start, end=end, **frames).warnings
        assert_frame_equal(
            backtested.sort("entity_id", "fired_on"), daily.sort("entity_id", "fired_on"), check_exact=False
        )
        fired_kinds |= {rule.kind} if daily.height else set()
    assert fired_kinds == set(rules.KINDS)  # the data made every kind fire somewhere


# --------------------------------------------------------------------------- a property


WINDOW = SHIPPED["FS-01"]  # 7 recent days, 90 baseline days
SPAN = 7 + 90
complaint_rows = st.tuples(st.integers(1, 3), st.sampled_from(["food_safety", "price"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inside=st.lists(st.tuples(complaint_rows, st.integers(0, SPAN)), max_size=40),
    outside=st.lists(
        st.tuples(complaint_rows, st.one_of(st.integers(SPAN + 1, 600), st.integers(-60, -1))), max_size=40
    ),
)
def test_a_window_rule_depends_only_on_the_events_inside_its_days(
    inside: list[tuple[tuple[int, str], int]], outside: list[tuple[tuple[int, str], int]]
) -> None:
    def rows(items: list[tuple[tuple[int, str], int]]) -> list[tuple[int, str, str, dt.date, str]]:
        return [(entity, "complaint", category, day(n), "") for (entity, category), n in items]

    alone = ev.evaluate([WINDOW], as_of=AS_OF, events=events(*rows(inside)))
    mixed = ev.evaluate([WINDOW], as_of=AS_OF, events=events(*rows(outside + inside)))
    assert_frame_equal(alone, mixed)
