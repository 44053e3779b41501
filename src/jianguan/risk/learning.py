"""AI 预筛: a pre-screening model learned from our own inspection history, used for draws only when its
measured lift beats the rule score's on inspections it never saw.

Every training example is built point-in-time: an inspection's features are the indicators as they
stood before its month began, so its own findings (and anything after) cannot leak into them. The
split is by time — trained on the inspections before a day, tested on those from that day on — as the
model would be used: fitted on the past, drawing for the future. The metrics are in ``model_eval``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from jianguan.audit import evidence
from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.core.bulkload import one_of
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.entities.models import CreditHistory
from jianguan.inspections import workflow as iwf
from jianguan.inspections.models import Inspection
from jianguan.risk import indicators, scoring, service
from jianguan.risk.model_eval import compare, evaluate
from jianguan.risk.models import LearnedModel, ScoreRuleSet

__all__ = ["Fitted", "compare", "current", "evaluate", "examples", "fit_and_compare", "load", "train", "weights"]

VISITED = ("no_problem", "problems")
CREDIT_ORDER = {"A": 0.0, "B": 1.0, "C": 2.0, "D": 3.0}  # unknown stays missing (the model learns its own)
SCALE_ORDER = {"micro": 0.0, "small": 1.0, "medium": 2.0, "large": 3.0}
MIN_ROWS = 100  # inspections per side of the split: fewer and the lifts are noise
MIN_VIOLATIONS = 10  # violations per side
VALIDATION_SHARE = 0.25  # the latest quarter of the training rows chooses the algorithm
HGB, LOGISTIC = "hist_gradient_boosting", "logistic_regression"
HGB_PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
LOGISTIC_PARAMS: dict[str, Any] = {"C": 1.0, "max_iter": 1000}
SHANGHAI = "Asia/Shanghai"


# --------------------------------------------------------------------------- examples, point-in-time


def _visits(db: Session, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Inspections with a result whose visit day (Shanghai) is in [start, end], labelled."""
    lo = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC) - dt.timedelta(days=1)
    hi = dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC) + dt.timedelta(days=2)
    stmt = select(
        Inspection.id, Inspection.entity_id, Inspection.visit_ended_at, Inspection.scheduled_on, Inspection.result
    ).where(
        Inspection.result.in_(VISITED),
        Inspection.state != iwf.CANCELLED,
        or_(
            and_(Inspection.visit_ended_at >= lo, Inspection.visit_ended_at < hi),
            and_(Inspection.visit_ended_at.is_(None), Inspection.scheduled_on.between(start, end)),
        ),
    )
    frame = pl.DataFrame(
        db.execute(stmt).all(),
        orient="row",
        schema={
            "inspection_id": pl.Int64,
            "entity_id": pl.Int64,
            "ended": pl.Datetime("us", "UTC"),
            "scheduled": pl.Date,
            "result": pl.Utf8,
        },
    )
    day = pl.coalesce(pl.col("ended").dt.convert_time_zone(SHANGHAI).dt.date(), pl.col("scheduled"))
    return (
        frame.with_columns(day.alias("inspected_on"))
        .filter(pl.col("inspected_on").is_between(start, end))
        .select(
            "inspection_id", "entity_id", "inspected_on", (pl.col("result") == "problems").cast(pl.Int8).alias("label")
        )
    )


def _credit_history(db: Session, entity_ids: Sequence[int]) -> pl.DataFrame:
    stmt = select(
        CreditHistory.entity_id, CreditHistory.value, CreditHistory.valid_from, CreditHistory.valid_to, CreditHistory.id
    ).where(one_of(db, CreditHistory.entity_id, list(entity_ids)))
    return pl.DataFrame(
        db.execute(stmt).all(),
        orient="row",
        schema={"entity_id": pl.Int64, "value": pl.Utf8, "valid_from": pl.Date, "valid_to": pl.Date, "id": pl.Int64},
    )


def _credit_as_of(frame: pl.DataFrame, history: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The credit class in force on ``as_of`` instead of today's, which may already reflect the very
    inspection being predicted. Before an entity's first recorded class it had none (""); an entity
    without any history row keeps its current class (nothing better is known)."""
    then = (
        history.filter(pl.col("valid_from") <= as_of, pl.col("valid_to").is_null() | (pl.col("valid_to") > as_of))
        .sort("valid_from", "id")
        .group_by("entity_id")
        .agg(pl.col("value").last().alias("credit_then"))
    )
    known = history.select(pl.col("entity_id").unique(), pl.lit(True).alias("has_history"))
    return (
        frame.join(then, on="entity_id", how="left")
        .join(known, on="entity_id", how="left")
        .with_columns(
            pl.when(pl.col("credit_then").is_not_null())
            .then(pl.col("credit_then"))
            .when(pl.col("has_history").fill_null(False))
            .then(pl.lit(""))
            .otherwise(pl.col("credit"))
            .alias("credit")
        )
        .drop("credit_then", "has_history")
    )


def _features(
    db: Session, *, rules: dict[str, Any], as_of: dt.date, entity_ids: Sequence[int], history: pl.DataFrame
) -> pl.DataFrame:
    """``entity_id``, every indicator as a number (codes as ordinals, unknown missing) and ``rule_score``."""
    raw = _credit_as_of(indicators.gather(db, as_of=as_of, rules=rules, entity_ids=entity_ids), history, as_of)
    scored = scoring.points(raw, rules).collect()
    codes = scoring.indicator_codes(rules)
    ordinal = {"credit": CREDIT_ORDER, "scale": SCALE_ORDER}
    columns = [
        pl.col(c).cast(pl.Utf8).replace_strict(ordinal[c], default=None, return_dtype=pl.Float64).alias(c)
        if c in ordinal
        else pl.col(c).cast(pl.Float64)
        for c in codes
    ]
    return scored.select("entity_id", *columns, pl.col("score").cast(pl.Float64).alias("rule_score"))


def examples(db: Session, *, rules: dict[str, Any], start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per inspection with a result visited in [start, end]: ``inspection_id, entity_id,
    inspected_on, label`` (1 = problems found), the indicators as of the last day of the month before
    the visit, and ``rule_score`` on those same values.

    Grouping by month costs one indicator gather per month (36 for three years) instead of one per
    inspection; the features are up to a month older than they could be, never newer. Entities no
    longer active are left out (the indicators only cover active entities)."""
    visits = _visits(db, start=start, end=end)
    codes = scoring.indicator_codes(rules)
    if visits.height == 0:
        return visits.with_columns(*(pl.lit(None, pl.Float64).alias(c) for c in [*codes, "rule_score"]))
    history = _credit_history(db, visits["entity_id"].unique().to_list())
    visits = visits.with_columns((pl.col("inspected_on").dt.month_start() - pl.duration(days=1)).alias("as_of"))
    parts = []
    for (as_of,), month in visits.sort("as_of").group_by("as_of", maintain_order=True):
        assert isinstance(as_of, dt.date)
        features = _features(
            db, rules=rules, as_of=as_of, entity_ids=month["entity_id"].unique().to_list(), history=history
        )
        parts.append(month.drop("as_of").join(features, on="entity_id", how="inner"))
    return pl.concat(parts).sort("inspected_on", "inspection_id")


# --------------------------------------------------------------------------- fitting and comparing


@dataclass
class Fitted:
    """A fitted estimator with what chose it and how it did on the test split."""

    estimator: Any
    algorithm: str
    params: dict[str, Any]
    evaluation: dict[str, Any]

    @property
    def beats_rule(self) -> bool:
        return bool(self.evaluation["beats_rule"])


def _matrix(frame: pl.DataFrame, features: Sequence[str]) -> npt.NDArray[np.float64]:
    """The features as floats, missing values as NaN (both estimators handle them)."""
    return frame.select(pl.col(c).cast(pl.Float64) for c in features).to_numpy().astype(np.float64)


def _estimator(algorithm: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]
    from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    if algorithm == HGB:
        return HistGradientBoostingClassifier(**HGB_PARAMS, random_state=seed)
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(**LOGISTIC_PARAMS, random_state=seed),
    )


def _choose(train: pl.DataFrame, features: Sequence[str], label: str, seed: int) -> dict[str, Any]:
    """Pick the algorithm on the latest part of the training period, never on the test split: choosing
    the better of two on the test split would make its reported lift optimistic."""
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    if "inspected_on" in train.columns:
        train = train.sort("inspected_on", maintain_order=True)
    cut = int(train.height * (1 - VALIDATION_SHARE))
    fit, check = train[:cut], train[cut:]
    y_fit, y_check = fit[label].to_numpy(), check[label].to_numpy()
    if min(y_fit.sum(), len(y_fit) - y_fit.sum()) < 2 or min(y_check.sum(), len(y_check) - y_check.sum()) < 2:
        return {"chosen": HGB, "by": "default (validation slice too small)", "validation_auc": {}}
    aucs = {}
    for algorithm in (HGB, LOGISTIC):
        estimator = _estimator(algorithm, seed).fit(_matrix(fit, features), y_fit)
        aucs[algorithm] = round(
            float(roc_auc_score(y_check, estimator.predict_proba(_matrix(check, features))[:, 1])), 4
        )
    chosen = LOGISTIC if aucs[LOGISTIC] > aucs[HGB] else HGB
    return {
        "chosen": chosen,
        "by": "validation AUC (latest 25 % of the training rows)",
        "validation_auc": aucs,
        "validation_rows": check.height,
    }


def fit_and_compare(
    train: pl.DataFrame,
    test: pl.DataFrame,
    features: Sequence[str],
    *,
    label: str = "label",
    rule_col: str = "rule_score",
    seed: int = 0,
) -> Fitted:
    """Choose and fit the model on ``train``, then rank ``test`` by it and by the rule score and compare."""
    import sklearn  # type: ignore[import-untyped]

    choice = _choose(train, features, label, seed)
    algorithm = choice["chosen"]
    estimator = _estimator(algorithm, seed).fit(_matrix(train, features), train[label].to_numpy())
    probability = estimator.predict_proba(_matrix(test, features))[:, 1]
    ranked = test.select(label, rule_col).with_columns(pl.Series("model", probability, dtype=pl.Float64))
    evaluation = compare(ranked, label=label, model_col="model", rule_col=rule_col, seed=seed)
    n_train, v_train = train.height, int(train[label].sum())
    n_test, v_test = test.height, int(test[label].sum())
    evaluation["counts"] = {
        "train_rows": n_train,
        "train_violations": v_train,
        "train_base_rate": round(v_train / n_train, 4) if n_train else None,
        "test_rows": n_test,
        "test_violations": v_test,
        "test_base_rate": round(v_test / n_test, 4) if n_test else None,
    }
    params = {
        "seed": seed,
        "sklearn": sklearn.__version__,
        "selection": choice,
        "hyperparameters": HGB_PARAMS if algorithm == HGB else LOGISTIC_PARAMS,
        "ordinals": {"credit": CREDIT_ORDER, "scale": SCALE_ORDER},
    }
    return Fitted(estimator, algorithm, params, evaluation)


# --------------------------------------------------------------------------- training and storing


def informative(frame: pl.DataFrame, features: Sequence[str]) -> list[str]:
    """The features that vary in the training rows: one that is always missing (e.g. a credit class
    recorded only after the inspections) or always the same teaches nothing and breaks the binning."""
    return [f for f in features if frame[f].drop_nulls().n_unique() > 1]


def _enough(frame: pl.DataFrame, *, field: str, side: str) -> None:
    rows, violations = frame.height, int(frame["label"].sum()) if frame.height else 0
    if rows < MIN_ROWS:
        raise Invalid(
            field,
            N_("Only {rows} inspections with a result in the {side} period; at least {minimum} are needed."),
            rows=rows,
            side=side,
            minimum=MIN_ROWS,
        )
    if violations < MIN_VIOLATIONS or violations == rows:
        raise Invalid(
            field,
            N_(
                "The {side} period has {violations} inspections with problems out of {rows}; "
                "at least {minimum} with and some without are needed."
            ),
            side=side,
            violations=violations,
            rows=rows,
            minimum=MIN_VIOLATIONS,
        )


def _save(estimator: Any) -> str:
    import joblib  # type: ignore[import-untyped]

    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    buffer.seek(0)
    sha256, _ = evidence.get_storage().put(buffer)
    return sha256


def train(
    db: Session, *, split_on: dt.date, start: dt.date, end: dt.date, actor: User | None, seed: int = 0
) -> LearnedModel:
    """Train on inspections visited in [start, split_on), test on [split_on, end], store the next version.

    The rule score it must beat is the rule set in force today — what draws would otherwise use —
    computed on the same point-in-time values the model sees. The fitted estimator goes into the
    evidence store and its hash into the row and the audit chain."""
    if not start < split_on <= end:
        raise Invalid("split_on", N_("The split day must fall after the start and no later than the end."))
    ruleset = service.rule_set(db)
    frame = examples(db, rules=ruleset.rules, start=start, end=end)
    before, after = frame.filter(pl.col("inspected_on") < split_on), frame.filter(pl.col("inspected_on") >= split_on)
    _enough(before, field="start", side="training")
    _enough(after, field="end", side="test")
    features = informative(before, scoring.indicator_codes(ruleset.rules))
    fitted = fit_and_compare(before, after, features, seed=seed)
    sha256 = _save(fitted.estimator)
    number = (db.scalar(select(func.max(LearnedModel.number))) or 0) + 1
    params = {**fitted.params, "rule_set_id": ruleset.id, "rule_set": f"{ruleset.code}-{ruleset.number}"}
    model = LearnedModel(
        number=number,
        algorithm=fitted.algorithm,
        features=list(features),
        params=params,
        trained_from=start,
        trained_to=split_on - dt.timedelta(days=1),
        tested_to=end,
        evaluation=fitted.evaluation,
        usable_for_draws=fitted.beats_rule,
        file_sha256=sha256,
        trained_by=actor.id if actor else None,
    )
    db.add(model)
    db.flush()
    ev = fitted.evaluation
    summary = {
        "number": number,
        "algorithm": fitted.algorithm,
        "sha256": sha256,
        "usable_for_draws": model.usable_for_draws,
        "auc": ev["model"]["auc"],
        "lift_10": ev["model"]["lift_10"],
        "lift_20": ev["model"]["lift_20"],
        "rule_auc": ev["rule"]["auc"],
        "rule_lift_10": ev["rule"]["lift_10"],
        "rule_lift_20": ev["rule"]["lift_20"],
        "test_rows": ev["counts"]["test_rows"],
        "periods": [start.isoformat(), split_on.isoformat(), end.isoformat()],
    }
    audit.record(
        db,
        actor=actor,
        action="risk.model_trained",
        object_type="learned_model",
        object_id=model.id,
        payload={**summary, "features": list(features), "params": params, "evaluation": ev},
        detail=summary,
    )
    return model


def load(db: Session, model: LearnedModel) -> Any:
    """The fitted estimator of a stored version.

    Unpickling runs code, so it is safe only for bytes we wrote ourselves: the file is read whole,
    re-hashed, and unpickled only if its SHA-256 equals the hash ``train`` recorded in the row (and the
    audit chain). A swapped or edited file fails the check; nothing uploaded by a user is ever loaded
    here. A model pickled by another scikit-learn version is refused rather than silently misread."""
    import joblib
    import sklearn

    if not model.file_sha256:
        raise NotFound(N_("Learned model No. {number} has no stored file."), number=model.number)
    try:
        with evidence.get_storage().open(evidence.check_sha256(model.file_sha256)) as handle:
            data = handle.read()
    except FileNotFoundError:
        raise evidence.EvidenceDamaged() from None
    if hashlib.sha256(data).hexdigest() != model.file_sha256:
        raise evidence.EvidenceDamaged()
    if model.params.get("sklearn") != sklearn.__version__:
        raise Invalid(
            "weight_source",
            N_(
                "Learned model No. {number} was trained with scikit-learn {trained}; "
                "retrain it with this version ({running})."
            ),
            number=model.number,
            trained=str(model.params.get("sklearn")),
            running=sklearn.__version__,
        )
    return joblib.load(io.BytesIO(data))


def current(db: Session) -> LearnedModel | None:
    """The latest trained version, usable or not."""
    return db.scalar(select(LearnedModel).order_by(LearnedModel.number.desc()).limit(1))


def usable(db: Session) -> LearnedModel:
    """The latest model, if draws may use it: it beat the rule score on its held-out inspections."""
    model = current(db)
    if model is None:
        raise Invalid("weight_source", N_("No learned pre-screening model has been trained; draw by the risk score."))
    if not model.usable_for_draws:
        raise Invalid(
            "weight_source",
            N_(
                "Learned model No. {number} did not beat the risk score on held-out "
                "inspections; draw by the risk score."
            ),
            number=model.number,
        )
    return model


def weights(db: Session, *, entity_ids: Sequence[int], as_of: dt.date) -> pl.DataFrame:
    """``entity_id, probability`` of finding problems, from the latest model — only if it beat the rule
    score on its held-out inspections; otherwise the draw must use the rule score, and this refuses.

    The indicators are read as they stand on ``as_of`` (the draw's eve), by the rule set the model was
    trained with; entities no longer active get no row."""
    model = usable(db)
    ruleset = db.get(ScoreRuleSet, model.params.get("rule_set_id"))
    if ruleset is None:
        raise NotFound(N_("The score rule set of learned model No. {number} is missing."), number=model.number)
    estimator = load(db, model)
    ids = list(dict.fromkeys(entity_ids))
    if not ids:
        return pl.DataFrame(schema={"entity_id": pl.Int64, "probability": pl.Float64})
    features = _features(db, rules=ruleset.rules, as_of=as_of, entity_ids=ids, history=_credit_history(db, ids))
    probability = estimator.predict_proba(_matrix(features, model.features))[:, 1]
    return (
        features.select("entity_id")
        .with_columns(pl.Series("probability", probability, dtype=pl.Float64))
        .sort("entity_id")
    )


def bands(db: Session, frame: pl.DataFrame, *, as_of: dt.date) -> tuple[pl.DataFrame, int]:
    """Re-grade a draw's candidates (``entity_id``, ``risk``) by the model instead of the rule score:
    the same number of red, yellow and blue as the score gives, but chosen by the model's probability
    (highest first, ties by id), so the sampling ratios per level keep their meaning. Returns the frame
    and the model's number (recorded with the draw)."""
    model = current(db)
    scored = weights(db, entity_ids=frame["entity_id"].to_list(), as_of=as_of)
    assert model is not None  # weights() refused otherwise
    shares = frame["risk"].fill_null("blue").value_counts()
    count = {str(level): int(n) for level, n in shares.iter_rows()}
    ranked = (frame.select("entity_id").join(scored, on="entity_id", how="left")
              .with_columns(pl.col("probability").fill_null(-1.0))
              .sort(["probability", "entity_id"], descending=[True, False])
              .with_row_index("rank"))
    red, yellow = count.get("red", 0), count.get("yellow", 0)
    band = (pl.when(pl.col("rank") < red).then(pl.lit("red"))
            .when(pl.col("rank") < red + yellow).then(pl.lit("yellow")).otherwise(pl.lit("blue")))
    graded = ranked.select("entity_id", band.alias("model_risk"))
    out = frame.join(graded, on="entity_id", how="left").with_columns(pl.col("model_risk").alias("risk"))
    return out.drop("model_risk"), model.number


def history(db: Session, *, limit: int = 20) -> list[LearnedModel]:
    """The trained versions, the latest first."""
    return list(db.scalars(select(LearnedModel).order_by(LearnedModel.number.desc()).limit(limit)))
