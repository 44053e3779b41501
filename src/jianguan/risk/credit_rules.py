"""The credit feedback rules (``risk/data/credit_rules.yaml``), validated when loaded.

Legal staff review the file, not code: the points of each event, the class mapping and the two lists'
conditions are data, evaluated without ``eval``. A fault names the file, the line where its version
starts and the field (``proposals.2.worse``), so a bad edit is refused before it decides anything.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.entities.codes import FALLBACK
from jianguan.reference import laws

# The events the evaluation knows how to count (risk/credit.py); a rule set gives each its points.
EVENTS = (
    "cooperation",
    "rectified_in_time",
    "finding_general",
    "finding_serious",
    "refusal",
    "rectification_rejected",
    "rectification_late",
    "penalty",
    "penalty_severe",
)
TAX_CREDIT = ("A", "B", "M", "C", "D")  # 纳税信用级别


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    law: str
    article: str


class Basis(_Strict):
    citations: list[Citation] = Field(min_length=1)
    policy: str = ""


class Event(_Strict):
    label: str = Field(min_length=1)
    points: int


class When(_Strict):
    """All conditions given must hold."""

    points_at_least: int | None = None
    points_at_most: int | None = None
    any_of: list[str] = []
    none_of: list[str] = []


class Step(_Strict):
    """One entry of the class mapping: to a class, or better / worse by steps from the current one."""

    label: str = Field(min_length=1)
    when: When
    to: str | None = None
    better: int | None = Field(default=None, ge=1)
    worse: int | None = Field(default=None, ge=1)


class CompliantRule(_Strict):
    years: int = Field(ge=1, le=10)
    kinds: list[str] = Field(min_length=1)
    credit_classes: list[str] = Field(min_length=1)
    tax_credit: list[str] = Field(min_length=1)
    excluded_tags: list[str] = []


class PunishmentRule(_Strict):
    years: int = Field(ge=1, le=10)
    credit_classes: list[str] = []
    tags: list[str] = []
    severe_penalty: bool = True


class RuleSet(_Strict):
    code: str = Field(min_length=1, max_length=20)
    number: int = Field(ge=1)
    name: str = Field(min_length=1)
    effective_from: dt.date
    effective_to: dt.date | None = None
    window_months: int = Field(ge=1, le=60)
    basis: Basis
    classes: list[str] = Field(min_length=2)
    events: dict[str, Event]
    proposals: list[Step] = Field(min_length=1)
    compliant: CompliantRule
    joint_punishment: PunishmentRule

    @property
    def version(self) -> str:
        """What a proposal stores: ``CF-1``."""
        return f"{self.code}-{self.number}"

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)

    def basis_text(self) -> str:
        """The legal basis as shown and stored: each cited article quoted from the law library, then policy."""
        parts = []
        for c in self.basis.citations:
            article = laws.cite(c.law, c.article)
            parts.append(f"《{article.law.title}》{article.article_no}：{article.text.split('　', 1)[-1].strip()}")
        if self.basis.policy:
            parts.append(self.basis.policy.strip())
        return "\n".join(parts)


def _problems(rules: RuleSet) -> list[Invalid]:
    out: list[Invalid] = []
    known_classes = set(FALLBACK["credit_class"])
    if set(rules.classes) - known_classes or len(set(rules.classes)) != len(rules.classes):
        out.append(Invalid("classes", N_("classes lists each credit class once, best first (A, B, C, D).")))
    missing = [e for e in EVENTS if e not in rules.events]
    unknown = [e for e in rules.events if e not in EVENTS]
    if missing or unknown:
        out.append(
            Invalid("events", N_("events gives points to exactly these events: {codes}."), codes=", ".join(EVENTS))
        )
    for n, step in enumerate(rules.proposals):
        where = f"proposals.{n}"
        if sum(x is not None for x in (step.to, step.better, step.worse)) != 1:
            out.append(Invalid(f"{where}.to", N_("{where}: give exactly one of to, better or worse."), where=where))
        if step.to is not None and step.to not in rules.classes:
            out.append(
                Invalid(f"{where}.to", N_("{where}: {value} is not one of the classes."), where=where, value=step.to)
            )
        w = step.when
        if w.points_at_least is None and w.points_at_most is None and not w.any_of and not w.none_of:
            out.append(Invalid(f"{where}.when", N_("{where}: give at least one condition."), where=where))
        for name in ("any_of", "none_of"):
            bad = [e for e in getattr(w, name) if e not in EVENTS]
            if bad:
                out.append(
                    Invalid(
                        f"{where}.when.{name}",
                        N_("{where}: unknown event(s) {codes}."),
                        where=where,
                        codes=", ".join(bad),
                    )
                )
    c, p = rules.compliant, rules.joint_punishment
    checks: list[tuple[str, list[str], set[str]]] = [
        ("compliant.kinds", c.kinds, set(FALLBACK["entity_kind"])),
        ("compliant.credit_classes", c.credit_classes, known_classes),
        ("compliant.tax_credit", c.tax_credit, set(TAX_CREDIT)),
        ("compliant.excluded_tags", c.excluded_tags, set(FALLBACK["entity_tag"])),
        ("joint_punishment.credit_classes", p.credit_classes, known_classes),
        ("joint_punishment.tags", p.tags, set(FALLBACK["entity_tag"])),
    ]
    for field, values, allowed in checks:
        bad = [v for v in values if v not in allowed]
        if bad:
            out.append(Invalid(field, N_("{where}: unknown value(s) {codes}."), where=field, codes=", ".join(bad)))
    if not (p.credit_classes or p.tags or p.severe_penalty):
        out.append(Invalid("joint_punishment", N_("joint_punishment needs at least one condition.")))
    if rules.effective_to is not None and rules.effective_to <= rules.effective_from:
        out.append(Invalid("effective_to", N_("A rule ends after it starts.")))
    for c_ in rules.basis.citations:
        try:
            laws.cite(c_.law, c_.article, field="basis.citations")
        except Invalid as error:
            out.append(error)
    return out


def validate(data: Any) -> RuleSet:
    """One version from its data, or ``Invalid`` naming every field at fault."""
    try:
        rules = RuleSet.model_validate(data)
    except ValidationError as error:
        raise Invalid.from_validation(error.errors(), default_field="rules") from None
    problems = _problems(rules)
    if problems:
        raise Invalid.all(problems)
    return rules


def load(path: Path | None = None) -> list[RuleSet]:
    """Every version of a rules file (the shipped one by default); a fault names file, line and field."""
    if path is None:
        name = "credit_rules.yaml"
        text = resources.files("jianguan.risk").joinpath("data", name).read_text(encoding="utf-8")
    else:
        name, text = path.name, path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) or []
    except yaml.YAMLError as error:
        raise Invalid("file", N_("{file} is not valid YAML: {problem}"), file=name, problem=str(error)[:200]) from None
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise Invalid("rules", N_("{file}: a rules file is a list of versions."), file=name)
    out: list[RuleSet] = []
    for node, item in zip(root.value, data, strict=True):
        label = f"{item.get('code', '?')}-{item.get('number', '?')}" if isinstance(item, dict) else "?"
        where = f"{name}, line {node.start_mark.line + 1} ({label})"
        try:
            rules = validate(item)
        except Invalid as error:
            raise Invalid.all(
                [
                    Invalid(e.field, N_("{where}: {problem}"), where=where, problem=str(e))
                    for e in (error, *error.others)
                ]
            ) from None
        if any(r.version == rules.version for r in out):
            raise Invalid(
                "number", N_("{where}: version {version} is given twice."), where=where, version=rules.version
            )
        out.append(rules)
    return out


@lru_cache(maxsize=1)
def shipped() -> tuple[RuleSet, ...]:
    return tuple(load())


def in_force(on: dt.date, versions: tuple[RuleSet, ...] | None = None) -> RuleSet:
    """The newest version in force on ``on`` (the one a proposal records)."""
    found = [r for r in (versions if versions is not None else shipped()) if r.in_force(on)]
    if not found:
        raise NotFound(N_("No credit feedback rules are in force on {day}."), day=on.isoformat())
    return max(found, key=lambda r: r.number)


def by_version(version: str) -> RuleSet | None:
    """A shipped version by its name (``CF-1``), to explain a stored proposal."""
    return next((r for r in shipped() if r.version == version), None)


def months_back(as_of: dt.date, months: int) -> dt.date:
    """The first day of a window of ``months`` months ending on ``as_of`` (inclusive): for 12 months
    to 2026-12-07, 2025-12-08. Month ends clip (12 months to 2028-02-29: from 2027-03-01)."""
    y, m = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    day = min(as_of.day, calendar.monthrange(y, m + 1)[1])
    return dt.date(y, m + 1, day) + dt.timedelta(days=1)
