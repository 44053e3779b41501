"""Warning rules (预警规则) as data (DESIGN §5): each rule is a YAML mapping validated with pydantic into
one of six kinds, never code and never ``eval``. ``risk/data/rules.yaml`` ships the defaults; a rule
edited in the rule editor is checked by the same ``validate`` before it is saved.

Common fields: ``code`` (FS-01), ``name``, ``domain`` (an enforcement_domain code, for routing with
the entity's region), ``level`` (red / yellow / blue), ``basis`` ``{law, article}`` quoted from the law
library, ``dedup_days``, ``description``, ``version``, ``effective_from`` (``effective_to`` optional).
``kind`` picks the ``params``:

- ``threshold``: a metric's readings beyond a limit, ``min_count`` of them within ``window_hours``;
- ``window``: a windowed count / sum / mean of events or readings against ``factor`` × the preceding
  baseline (``min_recent`` guards an empty baseline), or an absolute ``above`` / ``below``;
- ``consecutive``: the last ``count`` events of a kind all have ``field`` == ``equals``;
- ``expiry``: a date attribute past, or within ``days_before`` of, its date;
- ``mismatch``: the ratio of two declared / metered figures of a period off ``expected`` by more than
  ``ratio_tolerance``;
- ``level_change``: the entity's risk level moved up (to ``to``, or any upward move).

How each kind is evaluated over frames is in ``risk.evaluate``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.reference import laws
from jianguan.reference.data.value_domains import DOMAINS

KINDS = ("threshold", "window", "consecutive", "expiry", "mismatch", "level_change")
LEVELS = ("red", "yellow", "blue")
LEVEL_NAMES = {"red": "红色", "yellow": "黄色", "blue": "蓝色"}
ENFORCEMENT_DOMAINS = next(
    tuple(item[0] for item in items) for code, _, _, items in DOMAINS if code == "enforcement_domain"
)
CODE_PATTERN = r"^[A-Z]{1,4}-[0-9A-Z-]{1,16}$"
SOURCE = re.compile(r"^(events|readings):[a-z0-9_]{1,32}$")

# What the warning details call each metric, event kind, date attribute and declared figure, and its
# unit (for events: the counting word). A code not listed here is shown as written.
INDICATORS: dict[str, tuple[str, str]] = {
    "cold_chain_temp": ("冷链温度", "℃"),
    "hygiene_score": ("食品安全检查评分", "分"),
    "tank_pressure_ratio": ("储罐压力与设计压力之比", "倍"),
    "cod_mg_l": ("化学需氧量排放浓度", "mg/L"),
    "so2_mg_m3": ("二氧化硫排放浓度", "mg/m³"),
    "complaint": ("投诉举报", "件"),
    "opinion": ("舆情信息", "条"),
    "sampling": ("监督抽检", "批次"),
    "rapid_test": ("快速检测", "批次"),
    "foodborne_illness": ("食源性疾病病例报告", "例"),
    "kitchen_alert": ("明厨亮灶违规抓拍", "次"),
    "self_inspection": ("食品安全自查", "次"),
    "drill": ("生产安全事故应急演练", "次"),
    "training": ("安全生产教育培训", "次"),
    "fire_system": ("消防设施", "次"),
    "licence_valid_until": ("食品经营许可证有效期", ""),
    "health_certificate_valid_until": ("从业人员健康证明有效期", ""),
    "rectification_due": ("责令整改期限", ""),
    "equipment_inspection_due": ("特种设备定期检验有效期", ""),
    "hidden_danger_due": ("事故隐患治理期限", ""),
    "electricity_kwh": ("用电量", "千瓦时"),
    "declared_output": ("申报产量", "吨"),
    "subsidy": ("财政补贴", "万元"),
    "headcount": ("参保职工人数", "人"),
    "revenue": ("营业收入", "万元"),
}
CATEGORIES = {"food_safety": "食品安全"}
OUTCOMES = {
    "fail": "不合格",
    "missed": "未按计划开展",
    "missing": "无记录",
    "fault": "故障",
    "positive": "阳性",
    "open": "未销号",
}


def label(code: str) -> str:
    return INDICATORS.get(code, (code, ""))[0]


def unit(code: str) -> str:
    return INDICATORS.get(code, (code, ""))[1]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(_Data):
    law: str = Field(min_length=1)  # the law library's slug, e.g. food-safety-law
    article: str = Field(min_length=2)  # as written, e.g. 第一百一十五条


class ThresholdParams(_Data):
    metric: str = Field(min_length=1, max_length=32)
    op: Literal["gt", "ge", "lt", "le"]
    value: float
    unit: str = ""
    min_count: int = Field(1, ge=1)
    window_hours: int = Field(24, ge=1, le=24 * 366)
    label: str = ""


class WindowParams(_Data):
    source: str  # events:<kind> or readings:<metric>
    category: str | None = None  # events only
    outcome: str | None = None  # events only
    agg: Literal["count", "sum", "mean"] = "count"
    recent_days: int = Field(ge=1, le=366)
    baseline_days: int | None = Field(None, ge=1, le=3660)
    factor: float | None = Field(None, gt=0)
    direction: Literal["rise", "fall"] = "rise"
    min_recent: int | None = Field(None, ge=1)
    above: float | None = None
    below: float | None = None
    unit: str = ""
    label: str = ""


class ConsecutiveParams(_Data):
    event: str = Field(min_length=1, max_length=32)
    field: Literal["outcome", "category"] = "outcome"
    equals: str = Field(min_length=1)
    count: int = Field(ge=2, le=100)
    within_days: int = Field(365, ge=1, le=3660)  # only events this recent count
    label: str = ""


class ExpiryParams(_Data):
    attribute: str = Field(min_length=1, max_length=32)
    days_before: int = Field(0, ge=0, le=366)
    include_past: bool = True  # False: a reminder before the date only, silent once it has passed
    label: str = ""


class MismatchParams(_Data):
    left: str = Field(min_length=1, max_length=32)
    right: str = Field(min_length=1, max_length=32)
    expected: float = Field(ge=0)
    ratio_tolerance: float = Field(gt=0)
    within_days: int = Field(92, ge=1, le=3660)  # a period ended longer ago is stale


class LevelChangeParams(_Data):
    to: Literal["red", "yellow"] | None = None  # None: any upward move
    within_days: int = Field(1, ge=1, le=366)


class RuleBase(_Data):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=2, max_length=200)
    domain: str
    level: Literal["red", "yellow", "blue"]
    basis: Basis
    dedup_days: int = Field(ge=0, le=3660)
    description: str = Field(min_length=4)
    version: int = Field(ge=1)
    effective_from: dt.date
    effective_to: dt.date | None = None

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class ThresholdRule(RuleBase):
    kind: Literal["threshold"]
    params: ThresholdParams


class WindowRule(RuleBase):
    kind: Literal["window"]
    params: WindowParams


class ConsecutiveRule(RuleBase):
    kind: Literal["consecutive"]
    params: ConsecutiveParams


class ExpiryRule(RuleBase):
    kind: Literal["expiry"]
    params: ExpiryParams


class MismatchRule(RuleBase):
    kind: Literal["mismatch"]
    params: MismatchParams


class LevelChangeRule(RuleBase):
    kind: Literal["level_change"]
    params: LevelChangeParams


RuleSpec = Annotated[
    ThresholdRule | WindowRule | ConsecutiveRule | ExpiryRule | MismatchRule | LevelChangeRule,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[RuleSpec] = TypeAdapter(RuleSpec)


def _pydantic_problems(error: ValidationError) -> Invalid:
    """pydantic's errors named as the YAML names the field: ``params.window_days``, not the union tag."""
    errors = []
    for e in error.errors():
        loc = tuple(e["loc"])
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = ("kind",)
        elif loc and loc[0] in KINDS:
            loc = loc[1:]
        errors.append({**e, "loc": loc})
    return Invalid.from_validation(errors, default_field="rule")


def _check_basis(rule: RuleBase) -> list[Invalid]:
    if rule.basis.law not in laws.laws():
        return [Invalid("basis.law", N_("Unknown law {law}: cite one of the law library's laws."), law=rule.basis.law)]
    try:
        laws.cite(rule.basis.law, rule.basis.article, field="basis.article")
        laws.cite(rule.basis.law, rule.basis.article, on=rule.effective_from, field="basis.law")
    except Invalid as error:
        return [error]
    return []


def _check_window(p: WindowParams) -> list[Invalid]:
    out = []
    if not SOURCE.match(p.source):
        out.append(Invalid("params.source", N_("The source is events:<kind> or readings:<metric>.")))
    if sum(x is not None for x in (p.factor, p.above, p.below)) != 1:
        out.append(Invalid("params.factor", N_("Give exactly one of factor (against the baseline), above or below.")))
    if (p.factor is not None or p.below is not None) and p.baseline_days is None:
        out.append(Invalid("params.baseline_days", N_("A factor or below rule needs baseline_days.")))
    if p.factor is not None and p.min_recent is None:
        out.append(
            Invalid(
                "params.min_recent",
                N_("A factor rule needs min_recent, so that one event against an empty baseline does not fire."),
            )
        )
    if p.source.startswith("events:") and p.agg != "count":
        out.append(Invalid("params.agg", N_("Events are counted: agg is count.")))
    if p.source.startswith("readings:") and (p.category or p.outcome):
        out.append(Invalid("params.category", N_("category and outcome filter events, not readings.")))
    return out


def _problems(rule: RuleSpec) -> list[Invalid]:
    out: list[Invalid] = []
    if rule.domain not in ENFORCEMENT_DOMAINS:
        out.append(
            Invalid(
                "domain",
                N_("Unknown enforcement domain {code}: use one of {codes}."),
                code=rule.domain,
                codes=", ".join(ENFORCEMENT_DOMAINS),
            )
        )
    out += _check_basis(rule)
    if rule.effective_to is not None and rule.effective_to <= rule.effective_from:
        out.append(Invalid("effective_to", N_("A rule ends after it starts.")))
    if isinstance(rule, WindowRule):
        out += _check_window(rule.params)
    if isinstance(rule, ExpiryRule) and not rule.params.include_past and rule.params.days_before < 1:
        out.append(
            Invalid(
                "params.days_before",
                N_("A reminder before the date (include_past false) needs days_before of 1 or more."),
            )
        )
    if isinstance(rule, MismatchRule) and rule.params.left == rule.params.right:
        out.append(Invalid("params.right", N_("A mismatch compares two different figures.")))
    return out


def validate(data: Mapping[str, Any]) -> RuleSpec:
    """A rule from its data, or ``Invalid`` naming every field at fault (``params.recent_days``)."""
    try:
        rule = _ADAPTER.validate_python(data)
    except ValidationError as error:
        raise _pydantic_problems(error) from None
    problems = _problems(rule)
    if problems:
        raise Invalid.all(problems)
    return rule


def to_data(rule: RuleSpec) -> dict[str, Any]:
    """The rule as JSON-ready data (what is stored and shown for review); ``validate`` reads it back."""
    return rule.model_dump(mode="json", exclude_none=True)


def _located(error: Invalid, where: str) -> Invalid:
    """The same fields, each message prefixed with the file, line and rule code."""
    return Invalid.all(
        [Invalid(e.field, N_("{where}: {problem}"), where=where, problem=str(e)) for e in (error, *error.others)]
    )


def load(path: Path | None = None) -> list[RuleSpec]:
    """Every rule of a rules file (the shipped ``risk/data/rules.yaml`` by default), each validated; a
    fault names the file, the line where its rule starts, the rule and the field."""
    if path is None:
        name, text = "rules.yaml", resources.files("jianguan.risk").joinpath("data", "rules.yaml").read_text("utf-8")
    else:
        name, text = path.name, path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text) or []
    if not isinstance(data, list) or root is None or not isinstance(root, yaml.SequenceNode):
        raise Invalid("rules", N_("{file}: a rules file is a list of rules."), file=name)
    out: list[RuleSpec] = []
    seen: set[tuple[str, int]] = set()
    for node, item in zip(root.value, data, strict=True):
        code = str(item.get("code", "?")) if isinstance(item, dict) else "?"
        where = f"{name}, line {node.start_mark.line + 1} ({code})"
        if not isinstance(item, dict):
            raise Invalid("rule", N_("{where}: a rule is a mapping of fields."), where=where)
        try:
            rule = validate(item)
        except Invalid as error:
            raise _located(error, where) from None
        if (rule.code, rule.version) in seen:
            raise Invalid(
                "version",
                N_("{where}: version {version} of {code} is given twice."),
                where=where,
                version=rule.version,
                code=rule.code,
            )
        seen.add((rule.code, rule.version))
        out.append(rule)
    return out


@lru_cache(maxsize=1)
def shipped() -> tuple[RuleSpec, ...]:
    """The shipped rules, validated once per process."""
    return tuple(load())


def in_force(rules: Iterable[RuleSpec], on: dt.date) -> list[RuleSpec]:
    """For each code, the newest version in force on ``on`` (the version a warning records)."""
    newest: dict[str, RuleSpec] = {}
    for rule in rules:
        current = newest.get(rule.code)
        if rule.in_force(on) and (current is None or rule.version > current.version):
            newest[rule.code] = rule
    return sorted(newest.values(), key=lambda r: r.code)
