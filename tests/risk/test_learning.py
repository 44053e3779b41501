"""The learned pre-screening model: metrics on hand-made rankings, fitting on synthetic data with and
without a signal (no database), then point-in-time examples, training, storing and the draw gate."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import evidence
from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Invalid
from jianguan.entities.models import CreditHistory, Entity
from jianguan.risk import learning, model_eval, service
from jianguan.risk.models import LearnedModel
from tests.inspections.conftest import World, make_world
from tests.risk.conftest import at, finding, inspection

# --------------------------------------------------------------------------- metrics, pure


def ranked(labels: list[int], scores: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"label": labels, "score": scores})


@pytest.mark.parametrize(("positives", "lift_10", "lift_20"), [(30, 1 / 0.3, 1 / 0.3), (5, 10.0, 5.0)])
def test_perfect_ranking_lift_is_one_over_base_rate_capped_by_the_share_inspected(
    positives: int, lift_10: float, lift_20: float
) -> None:
    labels = [1] * positives + [0] * (100 - positives)
    result = model_eval.evaluate(ranked(labels, [float(v) for v in labels]), label="label", by="score")
    # 30 % violations: the first 10 % are all violations, 1/0.3 of random. 5 %: only 5 exist, so the
    # first 10 % hold all 5 and the lift is capped at 1/0.10 (and at 20 %, 1/0.20).
    assert result["lift_10"] == pytest.approx(lift_10, abs=1e-3)
    assert result["lift_20"] == pytest.approx(lift_20, abs=1e-3)
    assert result["auc"] == 1.0


def test_extra_violations_are_what_the_first_tenth_finds_beyond_random() -> None:
    labels = [1] * 30 + [0] * 70
    at_10 = model_eval.evaluate(ranked(labels, [float(v) for v in labels]), label="label", by="score")["at"]["10"]
    assert at_10 == {"inspected": 10, "found": 10.0, "random": 3.0, "extra": 7.0, "lift": pytest.approx(3.3333)}


def test_reversed_ranking_lifts_below_one() -> None:
    labels = [1] * 30 + [0] * 70
    result = model_eval.evaluate(ranked(labels, [-float(v) for v in labels]), label="label", by="score")
    assert result["lift_10"] == 0.0
    assert result["lift_20"] == 0.0
    assert result["auc"] == 0.0


def test_a_constant_score_is_exactly_random_selection() -> None:
    labels = [1] * 30 + [0] * 70
    result = model_eval.evaluate(ranked(labels, [50.0] * 100), label="label", by="score")
    assert result["lift_10"] == pytest.approx(1.0)
    assert result["lift_20"] == pytest.approx(1.0)
    assert result["auc"] == 0.5
    assert all(point["lift"] == pytest.approx(1.0) for point in result["gain"])


def test_a_tie_across_the_cut_counts_at_its_average_rate_whatever_the_row_order() -> None:
    # 30 tied at the top, 6 of them violations, 20 more violations below: the first 10 (all from the
    # tie) count 10 × 6/30 = 2 violations — not 10 because the violations happen to come first.
    top = [1] * 6 + [0] * 24
    rest = [1] * 20 + [0] * 50
    scores = [90.0] * 30 + [10.0] * 70
    first = model_eval.evaluate(ranked(top + rest, scores), label="label", by="score")
    flipped = model_eval.evaluate(ranked(top[::-1] + rest[::-1], scores), label="label", by="score")
    assert first["at"]["10"]["found"] == flipped["at"]["10"]["found"] == pytest.approx(2.0)
    assert first["lift_10"] == flipped["lift_10"] == pytest.approx(2.0 / (0.1 * 26), abs=1e-4)
    assert first["auc"] == flipped["auc"]


def test_curves_roc_at_most_101_points_and_gain_every_five_percent() -> None:
    rng = np.random.default_rng(3)
    frame = pl.DataFrame({"label": (rng.random(5000) < 0.2).astype(np.int8), "score": rng.random(5000)})
    result = model_eval.evaluate(frame, label="label", by="score")
    assert 2 < len(result["roc"]) <= 101
    assert result["roc"][0] == [0.0, 0.0] and result["roc"][-1] == [1.0, 1.0]
    assert [p["share"] for p in result["gain"]] == [round(0.05 * i, 2) for i in range(1, 21)]
    assert result["gain"][-1]["captured"] == 1.0 and result["gain"][-1]["lift"] == 1.0


def test_the_bootstraps_auc_is_sklearns() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    y = (rng.random(2000) < 0.3).astype(np.float64)
    scores = rng.integers(0, 6, 2000).astype(np.float64) + y * 0.7  # many ties
    assert model_eval._auc_fast(scores, y) == pytest.approx(roc_auc_score(y, scores))


def test_a_better_first_tenth_alone_does_not_beat_the_rule() -> None:
    # The model puts 10 violations first and the other 10 last; the rule spreads 16 over its first 20.
    labels = [1] * 10 + [0] * 70 + [1] * 10 + [0] * 10
    model = [float(100 - i) for i in range(100)]
    rule_labels = [1, 0] * 2 + [1] * 6 + [1, 0] * 2 + [1] * 6 + [0] * 60 + [1] * 4 + [0] * 16
    frame = pl.DataFrame({"label": labels, "model": model, "rule": _rule_for(labels, rule_labels)})
    result = model_eval.compare(frame, label="label", model_col="model", rule_col="rule")
    assert result["model"]["lift_10"] > result["rule"]["lift_10"]
    assert result["model"]["lift_20"] < result["rule"]["lift_20"]
    assert result["beats_rule"] is False


def _rule_for(labels: list[int], order: list[int]) -> list[float]:
    """Scores that rank ``labels`` so the labels read in ``order`` from the top (same counts)."""
    pools = {1: [i for i, v in enumerate(labels) if v == 1], 0: [i for i, v in enumerate(labels) if v == 0]}
    scores = [0.0] * len(labels)
    for rank, wanted in enumerate(order):
        scores[pools[wanted].pop()] = float(len(labels) - rank)
    return scores


# --------------------------------------------------------------------------- fitting, no database

FEATURES = ["x1", "x2", "x3"]


def synthetic(n: int, *, seed: int, signal: bool) -> pl.DataFrame:
    """A hidden propensity from two features plus noise; x3 is irrelevant. The weak rule sees x1 faintly."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    logit = -1.8 + 1.2 * x1 + 0.9 * x2 + rng.normal(scale=0.5, size=n) if signal else np.full(n, -1.4)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pl.DataFrame({"x1": x1, "x2": x2, "x3": x3, "label": label, "rule_score": 0.3 * x1 + rng.normal(size=n)})


def test_a_model_of_a_real_signal_lifts_and_beats_a_weak_rule() -> None:
    data = synthetic(4000, seed=7, signal=True)
    fitted = learning.fit_and_compare(data[:2400], data[2400:], FEATURES, seed=0)
    model, rule = fitted.evaluation["model"], fitted.evaluation["rule"]
    assert model["lift_10"] > 1.5
    assert model["lift_10"] > rule["lift_10"] and model["lift_20"] > rule["lift_20"] and model["auc"] > rule["auc"]
    assert fitted.evaluation["bootstrap"]["auc"]["low"] > 0
    assert fitted.beats_rule is True
    assert fitted.algorithm in (learning.HGB, learning.LOGISTIC)
    assert fitted.evaluation["counts"]["test_rows"] == 1600


def test_pure_noise_lifts_about_one_and_never_reaches_draws(db: Session) -> None:
    data = synthetic(6000, seed=11, signal=False)
    fitted = learning.fit_and_compare(data[:3000], data[3000:], FEATURES, seed=0)
    ev = fitted.evaluation
    n, violations = ev["counts"]["test_rows"], ev["counts"]["test_violations"]
    p = violations / n
    for share in (0.10, 0.20):
        # A ranking independent of the labels draws its first k like k inspections at random: the
        # violations among them are hypergeometric, so the lift's standard error is
        # sqrt(k·p·(1−p)·(n−k)/(n−1)) / (k·p); four of them leave a chance of 1 in 15,000 of failing.
        k = math.ceil(share * n)
        se = math.sqrt(k * p * (1 - p) * (n - k) / (n - 1)) / (k * p)
        assert abs(ev["model"][f"lift_{round(share * 100)}"] - 1) < 4 * se
    assert abs(ev["model"]["auc"] - 0.5) < 4 * math.sqrt((n + 1) / (12 * violations * (n - violations)))
    assert fitted.beats_rule is False

    db.add(
        LearnedModel(
            number=1,
            algorithm=fitted.algorithm,
            features=FEATURES,
            params=fitted.params,
            trained_from=dt.date(2024, 1, 1),
            trained_to=dt.date(2025, 12, 31),
            tested_to=dt.date(2026, 6, 30),
            evaluation=ev,
            usable_for_draws=fitted.beats_rule,
        )
    )
    db.flush()
    with pytest.raises(Invalid) as refused:
        learning.weights(db, entity_ids=[1], as_of=dt.date(2026, 12, 1))
    assert refused.value.field == "weight_source"


def test_no_model_means_draws_use_the_rule_score(db: Session) -> None:
    assert learning.current(db) is None
    with pytest.raises(Invalid) as refused:
        learning.weights(db, entity_ids=[1], as_of=dt.date(2026, 12, 1))
    assert refused.value.field == "weight_source"


def test_a_stored_model_whose_bytes_changed_is_not_unpickled(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = evidence.LocalEvidenceStorage(tmp_path)
    monkeypatch.setattr(evidence, "get_storage", lambda: store)
    data = synthetic(600, seed=1, signal=True)
    fitted = learning.fit_and_compare(data[:400], data[400:], FEATURES)
    model = LearnedModel(
        number=1, params=fitted.params, features=FEATURES, file_sha256=learning._save(fitted.estimator)
    )
    assert learning.load(db, model).predict_proba(data.select(FEATURES).to_numpy()).shape == (600, 2)
    store.path(model.file_sha256).write_bytes(b"not what was stored")
    with pytest.raises(evidence.EvidenceDamaged):
        learning.load(db, model)


# --------------------------------------------------------------------------- the database: examples


def test_examples_are_point_in_time_an_inspections_own_finding_is_only_in_later_features(
    db: Session, world: World
) -> None:
    rules = service.rule_set(db).rules
    entity = world.entities[0]
    entity.credit_class = "D"  # today's class, set after the first visit
    db.add_all(
        [
            CreditHistory(entity_id=entity.id, value="B", valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2026, 4, 1)),
            CreditHistory(entity_id=entity.id, value="D", valid_from=dt.date(2026, 4, 1)),
        ]
    )
    found = finding(db, entity, on=dt.date(2026, 3, 10), severity="serious").inspection
    same_month = inspection(db, entity, on=dt.date(2026, 3, 25), result="no_problem")
    later = inspection(db, entity, on=dt.date(2026, 5, 12), result="no_problem")
    night = inspection(db, world.entities[1], on=dt.date(2026, 5, 31), result="problems")
    night.visit_ended_at = at(dt.date(2026, 5, 31)) + dt.timedelta(hours=13)  # 01:00 on 1 June in Shanghai
    inspection(db, world.entities[2], on=dt.date(2026, 5, 20), result=None, state="notified")  # not visited

    rows = {
        r["inspection_id"]: r
        for r in learning.examples(db, rules=rules, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)).iter_rows(
            named=True
        )
    }

    assert set(rows) == {found.id, same_month.id, later.id, night.id}
    assert rows[found.id]["label"] == 1 and rows[found.id]["violations"] == 0  # its own finding is not a feature
    assert rows[same_month.id]["violations"] == 0  # features stand as of 28 February
    assert rows[later.id]["label"] == 0 and rows[later.id]["violations"] == 3  # serious = 3 by the rule set
    assert rows[found.id]["credit"] == 1.0 and rows[later.id]["credit"] == 3.0  # B then, D now: ordinals
    assert rows[later.id]["rule_score"] > rows[found.id]["rule_score"]
    assert rows[night.id]["inspected_on"] == dt.date(2026, 6, 1)


# --------------------------------------------------------------------------- the database: training


def _population(db: Session, world: World, n: int = 300) -> list[Entity]:
    """Entities whose size (large or not) drives the violations, credit drawn at random — so the rule
    score, led by credit, ranks them poorly."""
    rng = np.random.default_rng(2)
    scales, credits = ["large", "medium", "small", "micro"], ["A", "B", "C", "D"]
    made = [
        Entity(
            uscc=f"91330106LRN{i:07d}",
            name=f"西湖学习样本{i:03d}",
            kind="enterprise",
            status="active",
            region_code="330106",
            agency_id=world.xihu.id,
            industry_code="6210",
            scale=scales[int(rng.integers(4))],
            credit_class=credits[int(rng.integers(4))],
        )
        for i in range(n)
    ]
    db.add_all(made)
    db.flush()
    return made


def _visit_all(db: Session, entities: list[Entity], days: list[dt.date], *, seed: int, signal: bool) -> None:
    rng = np.random.default_rng(seed)
    for entity in entities:
        for day in days:
            day = day + dt.timedelta(days=int(rng.integers(0, 150)))
            rate = (0.7 if entity.scale == "large" else 0.1) if signal else 0.25
            inspection(db, entity, on=day, result="problems" if rng.random() < rate else "no_problem")


def test_training_stores_each_version_and_only_one_that_beats_the_rule_gives_weights(db: Session) -> None:
    world = make_world(db, n_entities=0, officers=0)
    service.load_rule_sets(db)
    entities = _population(db, world)
    _visit_all(db, entities, [dt.date(2024, 1, 1), dt.date(2024, 7, 1)], seed=3, signal=False)
    _visit_all(db, entities, [dt.date(2025, 1, 1), dt.date(2026, 1, 1)], seed=4, signal=True)
    ids = [e.id for e in entities]

    noise = learning.train(
        db, split_on=dt.date(2024, 7, 1), start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), actor=world.admin
    )
    assert (noise.number, noise.usable_for_draws) == (1, False)
    assert noise.evaluation["counts"]["train_rows"] == noise.evaluation["counts"]["test_rows"] == 300
    assert learning.load(db, noise) is not None
    with pytest.raises(Invalid) as refused:
        learning.weights(db, entity_ids=ids, as_of=dt.date(2026, 12, 1))
    assert refused.value.field == "weight_source"

    model = learning.train(
        db, split_on=dt.date(2026, 1, 1), start=dt.date(2025, 1, 1), end=dt.date(2026, 6, 30), actor=world.admin
    )
    assert model.number == 2 and learning.current(db) is model
    assert model.usable_for_draws is True, model.evaluation
    assert model.trained_to == dt.date(2025, 12, 31) and model.tested_to == dt.date(2026, 6, 30)
    assert model.features == ["credit", "scale"]  # the only indicators that vary in this world's history
    assert evidence.verify_evidence_file(model.file_sha256)
    audited = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "risk.model_trained").order_by(AuditEntry.id)
    ).all()
    assert [a.object_id for a in audited] == [str(noise.id), str(model.id)]
    assert model.file_sha256 in audited[-1].detail

    weights = learning.weights(db, entity_ids=ids, as_of=dt.date(2026, 12, 1))
    assert weights.columns == ["entity_id", "probability"] and weights.height == len(ids)
    large = {e.id for e in entities if e.scale == "large"}
    mean = weights.group_by(pl.col("entity_id").is_in(large).alias("large")).agg(pl.col("probability").mean())
    by_size = dict(mean.iter_rows())
    assert by_size[True] > by_size[False] + 0.3


def test_training_refuses_too_few_examples_naming_the_field(db: Session, world: World) -> None:
    finding(db, world.entities[0], on=dt.date(2026, 3, 10))
    with pytest.raises(Invalid) as refused:
        learning.train(
            db, split_on=dt.date(2026, 6, 1), start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 30), actor=world.admin
        )
    assert refused.value.field == "start"
    with pytest.raises(Invalid) as backwards:
        learning.train(
            db, split_on=dt.date(2025, 6, 1), start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 30), actor=world.admin
        )
    assert backwards.value.field == "split_on"


def test_features_that_never_vary_are_left_out_of_the_fit() -> None:
    frame = pl.DataFrame({"credit": [None, None, None], "warnings": [0.0, 0.0, 0.0], "violations": [0.0, 1.0, 3.0]})
    assert learning.informative(frame, ["credit", "warnings", "violations"]) == ["violations"]
