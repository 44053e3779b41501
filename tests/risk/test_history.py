"""The synthetic risk history: deterministic, driven by a hidden propensity that stays out of the database,
and written once in a shape the score's indicators read."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Float, Numeric, func, select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.db import Base
from jianguan.entities.models import Entity
from jianguan.inspections.models import Finding, Inspection
from jianguan.officers.models import Agency
from jianguan.risk import demo, history, indicators, service
from jianguan.risk.models import FeedRecord, Incident, Reading, RiskScore
from tests.risk.conftest import AS_OF

INDUSTRIES = {
    "6210": 0.26,
    "5212": 0.06,
    "5221": 0.05,
    "5223": 0.06,
    "5211": 0.04,
    "1431": 0.05,
    "1711": 0.04,
    "3311": 0.04,
    "3411": 0.02,
    "2614": 0.04,
    "2710": 0.02,
    "3011": 0.02,
    "4620": 0.02,
    "5431": 0.05,
    "5435": 0.02,
    "5437": 0.03,
    "8111": 0.05,
    "8051": 0.02,
    "5292": 0.07,
}


def registry(n: int, seed: int = 1) -> pl.DataFrame:
    """A registry frame as ``demo.registry`` reads it, without a database."""
    rng = np.random.default_rng(seed)
    weights = np.array(list(INDUSTRIES.values()))
    return pl.DataFrame(
        {
            "entity_id": np.arange(1, n + 1),
            "region_code": rng.choice(["330106", "330108"], n),
            "industry_code": rng.choice(list(INDUSTRIES), n, p=weights / weights.sum()),
            "scale": rng.choice(["micro", "small", "medium", "large"], n, p=[0.55, 0.3, 0.1, 0.05]),
            "credit_class": rng.choice(["A", "B", "C", "D"], n, p=[0.3, 0.55, 0.12, 0.03]),
            "kind": "enterprise",
            "abnormal": rng.random(n) < 0.03,
            "complaints": rng.poisson(0.1, n),
        }
    )


@cache
def world_history() -> tuple[pl.DataFrame, history.History]:
    entities = registry(8000)
    return entities, history.generate(entities, today=AS_OF)


def deciles(frame: pl.DataFrame, truth: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of the top-decile-propensity entities and those of the bottom half."""
    top, half = truth["propensity"].quantile(0.9), truth["propensity"].quantile(0.5)
    joined = frame.join(truth, on="entity_id")
    return joined.filter(pl.col("propensity") >= top), joined.filter(pl.col("propensity") < half)


# --------------------------------------------------------------------------- pure generation


def test_the_same_seed_gives_the_same_history_and_another_seed_another() -> None:
    entities = registry(600, seed=7)
    first = history.generate(entities, today=AS_OF, seed=11)
    again = history.generate(entities, today=AS_OF, seed=11)
    for part in ("inspections", "findings", "feeds", "readings", "incidents"):
        assert_frame_equal(getattr(first, part), getattr(again, part))
    assert_frame_equal(history.truth(entities, seed=11), history.truth(entities, seed=11))
    other = history.generate(entities, today=AS_OF, seed=12)
    assert not first.inspections.equals(other.inspections)


def test_the_history_frames_carry_no_trace_of_the_truth() -> None:
    _, made = world_history()
    for part in ("inspections", "findings", "feeds", "readings", "incidents"):
        columns = getattr(made, part).columns
        assert not [c for c in columns if c in ("propensity", "logit", "hidden") or c.startswith("drift")], part


def test_an_entity_keeps_its_propensity_whoever_else_is_registered() -> None:
    entities = registry(500)
    whole = history.truth(entities).head(50)
    assert_frame_equal(history.truth(entities.head(50)), whole)


def test_the_hidden_part_moves_entities_the_registry_cannot_tell_apart() -> None:
    same = (
        registry(1)
        .select(pl.exclude("entity_id"))
        .join(pl.DataFrame({"entity_id": range(1, 201)}), how="cross")
        .with_columns(complaints=pl.lit(0))
    )
    spread = history.truth(same)["propensity"]
    assert spread.max() > 2 * spread.min()  # identical in the registry, different in truth
    complained = history.truth(same.with_columns(complaints=pl.lit(3)))["propensity"]
    assert (complained > spread).all()  # complaints were drawn from worse-run entities


def test_top_decile_entities_fail_inspections_at_least_twice_as_often_as_the_bottom_half() -> None:
    entities, made = world_history()
    top, bottom = deciles(made.inspections, history.truth(entities))
    rate = {name: (part["result"] == "problems").mean() for name, part in (("top", top), ("bottom", bottom))}
    assert rate["top"] >= 2 * rate["bottom"] > 0
    share = made.inspections.height / entities.height / history.YEARS
    assert 0.15 < share < 0.4  # about a quarter of the registry a year, like a 双随机 programme


def test_sampling_failures_missed_drills_and_exceedances_follow_the_propensity() -> None:
    entities, made = world_history()
    truth = history.truth(entities)
    for kind, bad in (("sampling", "fail"), ("drill", "missed"), ("fire_system", "fault")):
        top, bottom = deciles(made.feeds.filter(pl.col("kind") == kind), truth)
        assert (top["outcome"] == bad).mean() >= 2 * (bottom["outcome"] == bad).mean() > 0, kind
    limits = history.sensor_limits()
    beyond = (
        made.readings.filter(pl.col("metric").is_in(list(limits)))
        .with_columns((pl.col("value") > pl.col("metric").replace_strict(limits)).alias("beyond"))
        .group_by("entity_id", "metric")
        .agg(pl.col("beyond").sum())
    )
    top, bottom = deciles(beyond, truth)
    assert top["beyond"].mean() >= 2 * bottom["beyond"].mean() > 0


def test_a_failure_is_followed_by_another_more_often_than_a_pass_is() -> None:
    _, made = world_history()
    runs = (
        made.inspections.filter(pl.col("kind") == "routine_random")
        .sort("entity_id", "scheduled_on")
        .with_columns((pl.col("result") == "problems").alias("failed"))
        .with_columns(pl.col("failed").shift().over("entity_id").alias("before"))
        .drop_nulls("before")
    )
    after = runs.group_by("before").agg(pl.col("failed").mean()).sort("before")["failed"].to_list()
    assert after[1] > after[0]


def test_some_entities_missed_three_drills_in_a_row() -> None:
    _, made = world_history()
    drills = (
        made.feeds.filter(pl.col("kind") == "drill")
        .sort("entity_id", "occurred_on")
        .with_columns((pl.col("outcome") == "missed").cast(pl.Int32).alias("m"))
    )
    streak = drills.with_columns(pl.col("m").rolling_sum(3).over("entity_id").alias("run"))
    assert streak.filter(pl.col("run") == 3)["entity_id"].n_unique() >= 3


def test_some_plants_declared_stopped_go_on_drawing_power() -> None:
    _, made = world_history()
    month = pl.col("measured_at").dt.convert_time_zone("Asia/Shanghai").dt.strftime("%Y-%m").alias("period")
    power = made.readings.filter(pl.col("metric") == "electricity_kwh").select("entity_id", month, "value")
    stopped = (
        made.feeds.filter(pl.col("kind") == "declared", pl.col("value") == 0)
        .select("entity_id", "period")
        .join(power, on=["entity_id", "period"])
    )
    assert stopped.filter(pl.col("value") > 0).height > 0  # producing while declared stopped
    assert stopped.filter(pl.col("value") == 0).height > 0  # a real stoppage draws nothing
    assert set(made.feeds.filter(pl.col("kind") == "declared")["metric"]) == {"declared_output"}


def test_inspections_and_findings_tell_one_consistent_story() -> None:
    _, made = world_history()
    found, findings = made.inspections, made.findings
    assert found["code"].n_unique() == found.height
    assert (
        found.filter(pl.col("state") == "closed")["closed_at"].null_count() == 0
        and found.filter(pl.col("state") != "closed")["closed_at"].null_count()
        == found.filter(pl.col("state") != "closed").height
    )
    with_findings = set(findings["inspection_code"].unique())
    assert with_findings == set(found.filter(pl.col("result") == "problems")["code"])
    unfinished = set(findings.filter(pl.col("state") != "accepted")["inspection_code"])
    assert unfinished == set(found.filter(pl.col("state") == "rectifying")["code"])
    assert set(found["state"]) == {"closed", "rectifying", "reviewing"}
    assert set(findings["state"]) <= {"open", "rectifying", "evidence_submitted", "accepted"}
    assert (
        findings.filter(pl.col("state").is_in(["open", "rectifying"]))["due_date"]
        == findings.filter(pl.col("state").is_in(["open", "rectifying"]))["rectify_by"]
    ).all()
    assert findings.filter(pl.col("rejections") > 0).height > 0
    late = findings.filter(pl.col("state") == "rectifying", pl.col("rectify_by") < AS_OF)
    assert late.height > 0  # overdue rectifications: 督办 material
    assert found["scheduled_on"].max() < AS_OF and (found["notice_sent_on"] < found["scheduled_on"]).all()  # type: ignore[operator]


def test_nothing_happens_on_or_after_today() -> None:
    _, made = world_history()
    midnight = dt.datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    assert made.feeds["occurred_on"].max() < AS_OF  # type: ignore[operator]
    assert made.readings["measured_at"].max() < midnight  # type: ignore[operator]
    assert made.findings["created_at"].max() < midnight  # type: ignore[operator]
    assert made.incidents["occurred_on"].max() < AS_OF  # type: ignore[operator]


def test_codes_continue_after_the_numbers_already_taken() -> None:
    entities = registry(400)
    found, _ = history.inspections(
        entities, today=AS_OF, agencies=["330106-SJ", "330108-SJ"], taken={"330106-SJ-JC2026": 41}
    )
    codes = found.filter(pl.col("code").str.starts_with("330106-SJ-JC2026-"))["code"].sort()
    assert codes[0] == "330106-SJ-JC2026-000042"
    assert set(found["agency_code"]) == {"330106-SJ", "330108-SJ"}  # the missing departments' go to 市场监管


# --------------------------------------------------------------------------- written into the database


@pytest.fixture
def district(db: Session) -> list[Entity]:
    """Xihu with its market and environment bureaus: restaurants of every credit class, and a few plants,
    food factories, supermarkets and hazardous-goods carriers (sensors, drills, equipment)."""
    service.load_rule_sets(db)
    sj = Agency(code="330106-SJ", name="杭州市西湖区市场监督管理局", region_code="330106", domains=["market", "food"])
    hb = Agency(code="330106-HB", name="杭州市生态环境局西湖分局", region_code="330106", domains=["ecology"])
    db.add_all([sj, hb])
    db.flush()
    kinds = [("6210", "micro", credit) for credit in ("A", "B", "C", None)] * 15
    kinds += [
        ("2614", "medium", "B"),
        ("1431", "medium", "B"),
        ("5212", "large", "A"),
        ("5435", "small", "C"),
        ("4620", "medium", "B"),
    ] * 3
    entities = [
        Entity(
            uscc=f"91330106RISK{i:06d}",
            name=f"西湖企业{i:03d}",
            kind="enterprise",
            status="active",
            region_code="330106",
            agency_id=sj.id,
            industry_code=industry,
            scale=scale,
            credit_class=credit,
        )
        for i, (industry, scale, credit) in enumerate(kinds)
    ]
    db.add_all(entities)
    db.flush()
    return entities


def table_counts(db: Session) -> dict[str, int]:
    return {
        m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
        for m in (Inspection, Finding, FeedRecord, Reading, Incident, RiskScore, AuditEntry)
    }


def test_load_writes_once_scores_the_registry_and_the_second_load_adds_nothing(
    db: Session, district: list[Entity]
) -> None:
    loaded = demo.load(db, today=AS_OF)
    assert loaded["inspections"] > 0 and loaded["findings"] > 0 and loaded["feeds"] > 0 and loaded["readings"] > 0
    assert sum(loaded["levels"].values()) == db.scalar(select(func.count()).select_from(Entity))
    assert db.scalar(select(func.count()).where(Entity.risk_level.is_(None))) == 0
    before = table_counts(db)
    assert before["inspections"] == loaded["inspections"] and before["risk_readings"] == loaded["readings"]
    assert demo.load(db, today=AS_OF) == dict.fromkeys(demo.COUNTS, 0)
    assert table_counts(db) == before


def test_the_ground_truth_is_in_no_table(db: Session, district: list[Entity]) -> None:
    truth = history.truth(demo.registry(db, today=AS_OF))
    demo.load(db, today=AS_OF)
    secret = set(truth["propensity"].to_list())
    for table in Base.metadata.sorted_tables:
        assert not [c.name for c in table.columns if "propensity" in c.name or "truth" in c.name], table.name
        for column in table.columns:
            if isinstance(column.type, Float | Numeric):
                values = {float(v) for v in db.scalars(select(column).distinct()) if v is not None}
                assert not values & secret, f"{table.name}.{column.name}"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == demo.MARK))
    assert entry is not None and "propensity" not in entry.detail


def test_written_findings_are_the_violations_the_score_reads(db: Session, district: list[Entity]) -> None:
    demo.load(db, today=AS_OF)
    weights = service.rule_set(db, on=AS_OF).rules["violation_weights"]
    since = dt.datetime.combine(AS_OF - dt.timedelta(days=3 * 365 - 1), dt.time(), dt.UTC) - dt.timedelta(hours=8)
    expected: dict[int, float] = {}
    for entity_id, severity in db.execute(
        select(Finding.entity_id, Finding.severity).where(Finding.created_at >= since)
    ):
        expected[entity_id] = expected.get(entity_id, 0) + weights[severity]
    assert expected
    got = indicators.gather(db, as_of=AS_OF, rules=service.rule_set(db, on=AS_OF).rules)
    violations = dict(got.select("entity_id", "violations").iter_rows())
    assert {e: v for e, v in violations.items() if v} == pytest.approx(expected)
    failed = set(
        db.scalars(
            select(Inspection.entity_id).where(
                Inspection.result == "problems", Inspection.scheduled_on > AS_OF - dt.timedelta(days=3 * 365 - 2)
            )
        )
    )
    assert failed and all(violations[e] > 0 for e in failed)
