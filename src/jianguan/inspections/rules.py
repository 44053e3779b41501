"""Sampling rule sets (抽查分层比例): shipped as YAML, loaded as versioned rows, read by every draw.

A rule set is never edited in place: a change is a new ``number``, and a draw records the rule set it
used, so an old draw is explained and re-run by the rules it was made under.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.inspections.models import SamplingRuleSet

RISK_KEYS = ("red", "yellow", "blue", "none")
CREDIT_KEYS = ("A", "B", "C", "D", "none")
DEFAULTS: dict[str, Any] = {
    "force_include_tags": [], "exempt_credit_classes": [], "exempt_plan_kinds": [], "exclude_statuses": [],
    "recent_days": 0, "recuse_previous": False, "officers_per_domain": 2, "workload_cap": None,
    "expert_min_pool": 30,
}


def _percent(where: str, value: Any, *, upper: Decimal | None = Decimal(100)) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(where, N_("{name} must be a number."), name=where) from None
    if number < 0 or (upper is not None and number > upper):
        raise Invalid(where, N_("{name} must be between 0 and {upper}."), name=where, upper=upper)
    return number


def validate(rules: dict[str, Any]) -> dict[str, Any]:
    """Check a rule set's ``rules`` and return them complete (defaults filled in)."""
    out = {**DEFAULTS, **rules}
    risk, credit = out.get("risk_ratio"), out.get("credit_factor")
    if not isinstance(risk, dict) or set(risk) != set(RISK_KEYS):
        raise Invalid("risk_ratio", N_("risk_ratio needs a percent for each of: {keys}."), keys=", ".join(RISK_KEYS))
    if not isinstance(credit, dict) or set(credit) != set(CREDIT_KEYS):
        raise Invalid("credit_factor", N_("credit_factor needs a factor for each of: {keys}."),
                      keys=", ".join(CREDIT_KEYS))
    out["risk_ratio"] = {k: str(_percent(f"risk_ratio.{k}", v)) for k, v in risk.items()}
    out["credit_factor"] = {k: str(_percent(f"credit_factor.{k}", v, upper=Decimal(10))) for k, v in credit.items()}
    for key in ("recent_days", "officers_per_domain", "expert_min_pool"):
        if not isinstance(out[key], int) or out[key] < 0:
            raise Invalid(key, N_("{name} must be a whole number, 0 or more."), name=key)
    if out["officers_per_domain"] < 2:
        raise Invalid("officers_per_domain", N_("At least two officers inspect together (双随机)."))
    if out["workload_cap"] is not None and (not isinstance(out["workload_cap"], int) or out["workload_cap"] < 1):
        raise Invalid("workload_cap", N_("{name} must be a whole number, 0 or more."), name="workload_cap")
    for key in ("force_include_tags", "exempt_credit_classes", "exempt_plan_kinds", "exclude_statuses"):
        if not isinstance(out[key], list) or not all(isinstance(v, str) for v in out[key]):
            raise Invalid(key, N_("{name} must be a list of codes."), name=key)
    return out


FREQUENCY = "frequency"  # the scheduler's rule set (差异化检查频次)


def validate_frequency(rules: dict[str, Any]) -> dict[str, Any]:
    """Check the frequency rules: visits a year per risk level and credit class, key/general minimums."""
    risk = rules.get("risk_visits_per_year")
    if not isinstance(risk, dict) or set(risk) != set(RISK_KEYS):
        raise Invalid("risk_visits_per_year", N_("risk_visits_per_year needs a number for each of: {keys}."),
                      keys=", ".join(RISK_KEYS))
    out = dict(rules)
    out["risk_visits_per_year"] = {k: str(_percent(f"risk_visits_per_year.{k}", v, upper=Decimal(52)))
                                   for k, v in risk.items()}
    for key in ("credit_visits_per_year", "credit_unannounced_per_year"):
        value = rules.get(key, {})
        if not isinstance(value, dict) or not set(value) <= set(CREDIT_KEYS):
            raise Invalid(key, N_("{name} must map credit classes to numbers."), name=key)
        out[key] = {k: str(_percent(f"{key}.{k}", v, upper=Decimal(52))) for k, v in value.items()}
    for key in ("key_domain_visits_per_year", "general_visits_per_year", "exempt_visits_per_year"):
        out[key] = str(_percent(key, rules.get(key, 0), upper=Decimal(52)))
    exempt = rules.get("exempt_credit_classes", [])
    if not isinstance(exempt, list) or not set(exempt) <= set(CREDIT_KEYS):
        raise Invalid("exempt_credit_classes", N_("{name} must be a list of codes."), name="exempt_credit_classes")
    out["exempt_credit_classes"] = exempt
    return out


def stratum(risk: str | None, credit: str | None) -> str:
    return f"{risk or '-'}/{credit or '-'}"


def stratum_ratio(rules: dict[str, Any], name: str) -> Decimal:
    """Percent for a stratum: the risk level's ratio times the credit class's factor, at most 100."""
    risk, _, credit = name.partition("/")
    ratio = Decimal(rules["risk_ratio"][risk if risk != "-" else "none"])
    factor = Decimal(rules["credit_factor"][credit if credit != "-" else "none"])
    return min(Decimal(100), (ratio * factor).quantize(Decimal("0.01")))


def all_strata() -> list[str]:
    return [stratum(r if r != "none" else None, c if c != "none" else None) for r in RISK_KEYS for c in CREDIT_KEYS]


def _folder() -> Path:
    return Path(str(resources.files("jianguan.inspections").joinpath("data")))


def load(db: Session, *, actor: User | None = None, path: Path | None = None) -> int:
    """Add the rule sets of the YAML file that are not loaded yet (by code and number). → added."""
    path = path or _folder() / "sampling_rules.yaml"
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        raise Invalid("file", N_("{file} is not valid YAML: {problem}"), file=path.name,
                      problem=str(error)[:200]) from None
    prepared = []
    for entry in entries:
        for key in ("code", "number", "name", "effective_from", "rules"):
            if key not in entry:
                raise Invalid(key, N_("{file}: a rule set lacks {name}."), file=path.name, name=key)
        if not isinstance(entry["effective_from"], dt.date):
            raise Invalid("effective_from", N_("{name} must be a date (YYYY-MM-DD)."), name="effective_from")
        check = validate_frequency if entry["code"] == FREQUENCY else validate
        prepared.append((entry, check(dict(entry["rules"]))))
    added = 0
    for entry, rules in prepared:
        exists = db.scalar(select(SamplingRuleSet.id).where(SamplingRuleSet.code == entry["code"],
                                                            SamplingRuleSet.number == int(entry["number"])))
        if exists is not None:
            continue
        row = SamplingRuleSet(code=entry["code"], number=int(entry["number"]), name=entry["name"],
                              basis=entry.get("basis", ""), effective_from=entry["effective_from"],
                              effective_to=entry.get("effective_to"), rules=rules)
        db.add(row)
        db.flush()
        audit.record(db, actor=actor, action="sampling_rules.load", object_type="sampling_rule_set",
                     object_id=row.id, payload={"code": row.code, "number": row.number, "rules": rules},
                     detail={"code": row.code, "number": row.number})
        added += 1
    return added


def current(db: Session, code: str = "default", on: dt.date | None = None) -> SamplingRuleSet:
    """The rule set of ``code`` in force on ``on`` (the newest number among those in force)."""
    day = on or today_shanghai()
    row = db.scalar(
        select(SamplingRuleSet)
        .where(SamplingRuleSet.code == code, SamplingRuleSet.effective_from <= day,
               (SamplingRuleSet.effective_to.is_(None)) | (SamplingRuleSet.effective_to >= day))
        .order_by(SamplingRuleSet.number.desc()).limit(1))
    if row is None:
        raise NotFound(N_("No sampling rules are in force; load them with: jianguan plan rules load"))
    return row


def list_rule_sets(db: Session) -> list[SamplingRuleSet]:
    return list(db.scalars(select(SamplingRuleSet).order_by(SamplingRuleSet.code, SamplingRuleSet.number)))
