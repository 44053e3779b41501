"""The metric catalogue (``risk/data/metrics.yaml``): what connected systems send and entities declare,
each metric's unit and plausible range, the feed kinds' outcomes and the cross-checks' tolerances —
data, validated once per process; a fault names the file, line and field (DESIGN §5)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_

PERIOD_RE = r"^[0-9]{4}(-(0[1-9]|1[0-2])|Q[1-4])?$"  # a month 2026-10, a quarter 2026Q3 or a year 2026


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Data):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str = Field(min_length=1)
    unit: tuple[str, ...] = Field(min_length=1)  # the first is assumed when a row gives none
    min: float
    max: float
    applies_to: str = Field(min_length=1)
    sources: tuple[Literal["readings", "declared"], ...] = Field(min_length=1)

    @field_validator("unit", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _range(self) -> Metric:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class FeedKind(_Data):
    name: str = Field(min_length=1)
    outcomes: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # code: other spellings
    categories: tuple[str, ...] = ()
    requires: tuple[
        Literal["outcome", "product", "headline", "due_on", "period", "metric", "value", "category"], ...
    ] = ()


# The figures each check's sentence may name.
FIGURES: dict[str, frozenset[str]] = {
    "electricity_output": frozenset({"period", "kwh", "output", "unit", "ratio", "median", "times"}),
    "stopped_power": frozenset({"period", "kwh", "average", "months", "percent"}),
    "subsidy_headcount": frozenset({"period", "category", "subsidy", "headcount", "ratio", "median", "times"}),
    "subsidy_revenue": frozenset({"period", "category", "subsidy", "revenue", "percent", "median_percent", "times"}),
}


class CrossCheck(_Data):
    name: str = Field(min_length=1)
    text: str = Field(min_length=1)
    above: float | None = Field(default=None, gt=1)
    below: float | None = Field(default=None, gt=0, lt=1)
    min_peers: int = Field(default=3, ge=2)
    share: float | None = Field(default=None, gt=0)
    months: int = Field(default=6, ge=1, le=24)
    min_months: int = Field(default=1, ge=1)
    unnamed_category: str = ""  # a subsidy's {category} when the declaration names none


class Catalogue(_Data):
    version: int
    metrics: tuple[Metric, ...] = Field(min_length=1)
    unit_aliases: dict[str, str] = Field(default_factory=dict)
    feeds: dict[str, FeedKind] = Field(min_length=1)
    cross_checks: dict[str, CrossCheck]  # each of FIGURES

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        codes = [m.code for m in self.metrics]
        if len(set(codes)) != len(codes):
            raise ValueError("a metric code is given twice")
        units = {u for m in self.metrics for u in m.unit}
        if unknown := sorted(set(self.unit_aliases.values()) - units):
            raise ValueError(f"unit_aliases name units no metric has: {unknown}")
        if set(self.cross_checks) != set(FIGURES):
            raise ValueError(f"cross_checks are {sorted(FIGURES)}")
        for code, check in self.cross_checks.items():
            named = {f for _, f, _, _ in string.Formatter().parse(check.text) if f}
            if extra := sorted(named - FIGURES[code]):
                raise ValueError(f"cross_checks.{code}.text names unknown figures {extra}")
        return self

    def metric(self, code: str) -> Metric:
        return next(m for m in self.metrics if m.code == code)

    def metric_lookup(self) -> dict[str, str]:
        """Lower-cased code or Chinese name → code."""
        return {k.lower(): m.code for m in self.metrics for k in (m.code, m.name)}

    def unit_lookup(self) -> dict[str, str]:
        """Lower-cased unit or alias → unit."""
        found = {u.lower(): u for m in self.metrics for u in m.unit}
        return found | {k.lower(): v for k, v in self.unit_aliases.items()}

    def kind_lookup(self) -> dict[str, str]:
        """Lower-cased code or Chinese name of a feed kind → code."""
        return {k.lower(): code for code, kind in self.feeds.items() for k in (code, kind.name)}

    def outcome_lookup(self) -> dict[str, str]:
        """``kind|lower-cased outcome or spelling`` → outcome code."""
        return {
            f"{kind}|{s.lower()}": code
            for kind, feed in self.feeds.items()
            for code, spellings in feed.outcomes.items()
            for s in (code, *spellings)
        }


def _line(root: yaml.Node | None, loc: Sequence[int | str]) -> int:
    """The line of the deepest node of ``loc`` in the composed YAML (1-based; 0 when unknown)."""
    node, line = root, 0
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_catalogue(text: str, name: str = "metrics.yaml") -> Catalogue:
    """The catalogue of a YAML text, validated; a fault names the file, line and field."""
    try:
        data = yaml.safe_load(text)
        return Catalogue.model_validate(data)
    except yaml.YAMLError as error:
        raise Invalid("catalogue", N_("{file}: not YAML: {problem}"), file=name, problem=str(error)[:200]) from None
    except ValidationError as error:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        problems = []
        for e in error.errors():
            field = ".".join(str(p) for p in e["loc"]) or "catalogue"
            where = f"{name}, line {_line(root, e['loc'])}, {field}"
            problems.append(Invalid(field, N_("{where}: {problem}"), where=where, problem=e["msg"]))
        raise Invalid.all(problems) from None


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The shipped catalogue, validated once per process."""
    return load_catalogue(resources.files("jianguan.risk").joinpath("data", "metrics.yaml").read_text("utf-8"))
