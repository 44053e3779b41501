"""The discretion rule register: versions written or imported as drafts, approved by someone else, then
used by the engine from their date; rules round-trip through one spreadsheet row each; a bad row is
reported cell by cell and nothing of the batch is written."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.cases import benchmarks, discretion, importing, rule_text
from jianguan.core.errors import Forbidden, Invalid
from jianguan.imports import pipeline
from jianguan.imports.checks import ROW
from tests.inspections.conftest import PASSWORD, World


@pytest.fixture(autouse=True)
def _shipped_only() -> Any:
    """Each test starts from the shipped rules (the engine's installed set is per process)."""
    benchmarks._installed_key = None
    discretion.install([])
    yield
    benchmarks._installed_key = None
    discretion.install([])


@pytest.fixture
def reviewer(db: Session, world: World) -> User:
    return auth.create_user(db, username="fazhi", display_name="法制审核员", password=PASSWORD,
                            roles=["legal_reviewer"], agency_id=world.xihu.id, actor=None)


def spec(**changes: Any) -> dict[str, Any]:
    base = dict(next(s for s in discretion.shipped_specs() if s["code"] == "SP-126-54"))
    return {**base, **changes}


def test_a_new_version_is_used_from_its_date_once_another_person_approves_it(db: Session, world: World,
                                                                              reviewer: User) -> None:
    stricter = spec(effective_from=dt.date(2026, 10, 1), range=[{"min": 10000, "max": 50000}])
    draft = benchmarks.propose(db, spec=stricter, note="省局新基准", actor=world.leader)
    assert draft.number == 2 and draft.status == "draft"
    on = dt.date(2026, 11, 1)
    assert discretion.suggest("SP-126-54", {}, on=on).legal_range == (Decimal(5000), Decimal(50000))  # not yet
    with pytest.raises(Forbidden):
        benchmarks.decide(db, rule_id=draft.id, approve=True, actor=world.leader)  # its own author
    with pytest.raises(Invalid):
        benchmarks.decide(db, rule_id=draft.id, approve=False, actor=reviewer)  # a rejection needs a reason
    benchmarks.decide(db, rule_id=draft.id, approve=True, actor=reviewer)
    assert discretion.suggest("SP-126-54", {}, on=on).legal_range == (Decimal(10000), Decimal(50000))
    # An act before 1 October is judged by version 1, which now ends where version 2 begins (从旧).
    assert discretion.suggest("SP-126-54", {}, on=dt.date(2026, 9, 30)).version == 1
    assert [v["status"] for v in benchmarks.versions_of(db, "SP-126-54")] == ["approved", "shipped"]


def test_a_bad_rule_is_refused_naming_each_problem(db: Session, world: World) -> None:
    wrong = spec(code="sp 1", penalty={"law": "food-safety-law", "article": "第九百条"}, kinds=["3", "77"],
                 range=[{"min": 9000, "max": 100}], tiers={"lighter": {"fact": "moon_phase", "eq": "full"}})
    with pytest.raises(Invalid) as refused:
        benchmarks.propose(db, spec=wrong, actor=world.leader)
    fields = {refused.value.field, *(o.field for o in refused.value.others)}
    assert fields == {"code", "penalty", "kinds", "range", "lighter"}


def test_every_shipped_rule_round_trips_through_one_row() -> None:
    for shipped in discretion.shipped_specs():
        row = benchmarks.row_of(shipped)
        back = benchmarks.spec_of(row)
        back["version"] = shipped["version"]
        discretion.check_spec(back)
        assert benchmarks.row_of(back) == row, shipped["code"]


def test_the_text_of_a_condition() -> None:
    text = "first_violation=true & harm in none|slight & corrected_in_time=true; meritorious=true"
    parsed = rule_text.parse_condition(text, "lighter")
    assert parsed == {"any": [{"all": [{"fact": "first_violation", "eq": True},
                                       {"fact": "harm", "in": ["none", "slight"]},
                                       {"fact": "corrected_in_time", "eq": True}]},
                              {"fact": "meritorious", "eq": True}]}
    assert rule_text.condition_text(parsed) == text
    assert rule_text.parse_range("goods_value<10000 => 50,000-100,000\n10x-20x goods_value") == [
        {"when": {"fact": "goods_value", "lt": 10000}, "min": 50000, "max": 100000},
        {"min_times": 10, "max_times": 20, "of": "goods_value"}]
    with pytest.raises(Invalid) as unreadable:
        rule_text.parse_condition("harm is bad", "heavier")
    assert unreadable.value.field == "heavier"


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6))
def test_written_conditions_hold_exactly_when_the_originals_do(seed: int) -> None:
    rng = random.Random(seed)
    shipped = rng.choice(discretion.shipped_specs())
    rule = discretion.build([shipped])[shipped["code"]][0]
    values: dict[str, Any] = {}
    for key in discretion.facts_of(rule):
        fact = discretion.facts()[key]
        if rng.random() < 0.2:
            continue  # a fact not given never holds
        values[key] = (rng.random() < 0.5 if fact.type == "bool" else rng.choice(list(fact.choices))
                       if fact.type == "choice" else Decimal(rng.choice([0, 1, 2, 5, 9999, 10000, 50000, 10**6])))
    for tier, condition in (shipped.get("tiers") or {}).items():
        back = rule_text.parse_condition(rule_text.condition_text(condition), tier)
        assert discretion.holds(back, values, []) == discretion.holds(condition, values, []), (shipped["code"], tier)


def test_rules_import_from_excel_all_or_nothing(db: Session, world: World, reviewer: User, tmp_path: Path) -> None:
    frame = importing.export(db)
    assert frame.height == len(discretion.rules())
    changed = frame.with_columns(
        pl.when(pl.col("code") == "SP-126-54").then(pl.lit("8000-50000")).otherwise(pl.col("range")).alias("range"))
    broken = changed.with_columns(
        pl.when(pl.col("code") == "CP-49").then(pl.lit("goods_value<<1 => 1-2")).otherwise(pl.col("range"))
        .alias("range"))
    bad_file, good_file = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    labels = {f.key: f.label for f in importing.FIELDS}
    broken.rename(labels).write_excel(bad_file)
    changed.rename(labels).write_excel(good_file)
    refused = pipeline.run(db, bad_file, kind="discretion", actor=reviewer)
    assert refused.error_rows == 1 and not refused.written
    problem = refused.problems.filter(pl.col("severity") == "error").row(0, named=True)
    assert problem["field"] == "range" and "<1" in problem["message"] and problem[ROW] == 2 + frame.get_column(
        "code").to_list().index("CP-49")
    assert benchmarks.versions_of(db, "SP-126-54")[0]["status"] == "shipped"  # nothing written
    done = pipeline.run(db, good_file, kind="discretion", actor=reviewer, batch_label="B1")
    assert done.written and done.updated == 1 and done.created == 0  # only the changed rule
    draft = benchmarks.versions_of(db, "SP-126-54")[0]
    assert draft["status"] == "draft" and draft["spec"]["range"] == [{"min": 8000, "max": 50000}]
