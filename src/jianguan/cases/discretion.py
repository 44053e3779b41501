"""The discretion benchmark engine (裁量基准, domain-rules §4.1): rules as versioned data, a case's facts
in, the tier, the suggested range, the penalty kinds, the legal basis and the reasons out.

A rule (``cases/data/discretion/*.yaml``) names the article violated and the article imposing the
penalty (both quoted from the law library), the legal fine range — fixed amounts, or multiples of a
fact such as the goods' value, chosen by brackets on the facts — and the conditions of each tier:

- 不予处罚 (``no_penalty``): e.g. first violation, slight harm, corrected in time (首违不罚 / 轻微不罚);
- 减轻 (``mitigated``): below the legal minimum, only with the reasons the law allows;
- 从轻 (``lighter``) the lowest share of the range, 从重 (``heavier``) the top share, 一般 (``ordinary``)
  in between — SAMR's guidance is 30 % each side, a rule may set its own shares.

Money is Decimal yuan, rounded to the fen; never a float. The engine is pure: no database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_

FEN = Decimal("0.01")
TIERS = ("no_penalty", "mitigated", "lighter", "ordinary", "heavier")
TIER_NAMES = {"no_penalty": "不予处罚", "mitigated": "减轻处罚", "lighter": "从轻处罚", "ordinary": "一般",
              "heavier": "从重处罚"}
DEFAULT_SHARES = {"lighter": Decimal(30), "heavier": Decimal(30)}  # percent of the range, SAMR guidance
OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")


def yuan(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    category: str
    type: str
    choices: Mapping[str, str] = field(default_factory=dict)  # code → Chinese name


@lru_cache(maxsize=1)
def facts() -> dict[str, Fact]:
    text = resources.files("jianguan.cases").joinpath("data", "facts.yaml").read_text(encoding="utf-8")
    return {k: Fact(k, v["label"], v["category"], v["type"], dict(v.get("choices", {}))) for k, v in
            yaml.safe_load(text).items()}


def parse_facts(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The facts as typed values; an unknown fact or a wrong value names the fact."""
    known, out, problems = facts(), {}, []
    for key, value in raw.items():
        fact = known.get(key)
        if fact is None:
            problems.append(Invalid(key, N_("Unknown case fact {name}."), name=key))
            continue
        try:
            out[key] = _typed(fact, value)
        except (InvalidOperation, ValueError, TypeError):
            problems.append(Invalid(key, N_("{label}: the value {value} is not valid."), label=fact.label,
                                    value=str(value)))
    if problems:
        raise Invalid.all(problems)
    return out


def _typed(fact: Fact, value: Any) -> Any:
    if fact.type == "bool":
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "1", "是", "yes"):
            return True
        if str(value).strip().lower() in ("false", "0", "否", "no"):
            return False
        raise ValueError(value)
    if fact.type in ("amount", "number"):
        if isinstance(value, float):
            raise TypeError("amounts are given as text or integers, never floats")
        number = Decimal(str(value).replace(",", "").strip())
        if not number.is_finite() or number < 0:
            raise ValueError(value)
        return yuan(number) if fact.type == "amount" else number
    if fact.type == "choice":
        if value in fact.choices:
            return value
        named = {name: code for code, name in fact.choices.items()}  # the Chinese name works too
        if value in named:
            return named[value]
        raise ValueError(value)
    raise ValueError(fact.type)


# --------------------------------------------------------------------------- conditions


def holds(condition: Mapping[str, Any] | None, values: Mapping[str, Any], reasons: list[str]) -> bool:
    """``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or ``{"fact": name, <op>: value}``. A
    missing fact never holds. The facts that made it hold are added to ``reasons``."""
    if not condition:
        return False
    if "all" in condition:
        found: list[str] = []
        if all(holds(c, values, found) for c in condition["all"]):
            reasons += found
            return True
        return False
    if "any" in condition:
        hit = False
        for c in condition["any"]:
            hit = holds(c, values, reasons) or hit
        return hit
    if "not" in condition:
        return not holds(condition["not"], values, [])
    name = condition["fact"]
    if name not in values:
        return False
    value, fact = values[name], facts()[name]
    op = next(o for o in OPS if o in condition)
    expected = condition[op]
    if fact.type in ("amount", "number"):
        expected = [Decimal(str(e)) for e in expected] if op == "in" else Decimal(str(expected))
    ok = _compare(op, value, expected)
    if ok:
        reasons.append(_describe(fact, value))
    return bool(ok)


def _compare(op: str, value: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(value == expected)
    if op == "ne":
        return bool(value != expected)
    if op == "in":
        return value in expected
    if isinstance(value, bool) or not isinstance(value, Decimal):
        return False  # an order only between numbers
    return bool({"lt": value < expected, "lte": value <= expected, "gt": value > expected,
                 "gte": value >= expected}[op])


def _describe(fact: Fact, value: Any) -> str:
    if fact.type == "bool":
        return fact.label if value else f"非{fact.label}"
    if fact.type == "choice":
        return f"{fact.label}{fact.choices.get(value, value)}"
    return f"{fact.label}：{value}"


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Bracket:
    """One way the law sets the fine: fixed amounts, or multiples of a fact (with a floor if the law
    gives one), applying when ``when`` holds (the last bracket applies otherwise)."""

    when: Mapping[str, Any] | None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_times: Decimal | None = None
    max_times: Decimal | None = None
    of: str = ""

    def amounts(self, values: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
        if self.of:
            base = values.get(self.of)
            if base is None:
                raise Invalid(self.of, N_("The rule needs the fact {label}."), label=facts()[self.of].label)
            assert self.min_times is not None and self.max_times is not None
            return yuan(base * self.min_times), yuan(base * self.max_times)
        assert self.minimum is not None and self.maximum is not None
        return yuan(self.minimum), yuan(self.maximum)


@dataclass(frozen=True)
class Rule:
    code: str
    version: int
    title: str
    effective_from: dt.date
    effective_to: dt.date | None
    violated: tuple[str, str]  # (law slug, article)
    imposing: tuple[str, str]
    kinds: tuple[str, ...]  # penalty_kind codes with the fine
    brackets: tuple[Bracket, ...]
    conditions: Mapping[str, Any]  # tier → condition
    shares: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    heavier_kinds: tuple[str, ...] = ()  # added when heavier (e.g. 吊销许可证 情节严重)

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _rule(spec: Mapping[str, Any]) -> Rule:
    brackets = tuple(Bracket(b.get("when"), _decimal(b.get("min")), _decimal(b.get("max")),
                             _decimal(b.get("min_times")), _decimal(b.get("max_times")), b.get("of", ""))
                     for b in spec["range"])
    shares = {**DEFAULT_SHARES, **{k: Decimal(str(v)) for k, v in (spec.get("shares") or {}).items()}}
    to = spec.get("effective_to")
    return Rule(spec["code"], int(spec["version"]), spec["title"], spec["effective_from"], to,
                (spec["violated"]["law"], spec["violated"]["article"]),
                (spec["penalty"]["law"], spec["penalty"]["article"]), tuple(spec["kinds"]), brackets,
                spec.get("tiers", {}), shares, tuple(spec.get("heavier_kinds", ())))


@lru_cache(maxsize=1)
def shipped_specs() -> tuple[dict[str, Any], ...]:
    """The rules shipped as data files (cases/data/discretion/*.yaml), as written."""
    out: list[dict[str, Any]] = []
    folder = resources.files("jianguan.cases").joinpath("data", "discretion")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            out += yaml.safe_load(entry.read_text(encoding="utf-8"))
    return tuple(out)


def build(specs: Iterable[Mapping[str, Any]]) -> dict[str, list[Rule]]:
    """Rules by code, versions newest first; a version without an end ends where the next one starts."""
    out: dict[str, list[Rule]] = {}
    for spec in specs:
        rule = _rule(spec)
        versions = out.setdefault(rule.code, [])
        versions[:] = [r for r in versions if r.version != rule.version] + [rule]  # a later spec replaces
    for code, versions in out.items():
        versions.sort(key=lambda r: r.version, reverse=True)
        ended: list[Rule] = []
        for rule in versions:
            newer = ended[-1] if ended else None
            if newer is not None and rule.effective_to is None and newer.effective_from > rule.effective_from:
                rule = replace(rule, effective_to=newer.effective_from)
            ended.append(rule)
        out[code] = ended
    return out


_installed: dict[str, list[Rule]] | None = None


def install(extra: Iterable[Mapping[str, Any]]) -> None:
    """Use the shipped rules plus ``extra`` (versions approved in the rule editor or imported from Excel)."""
    global _installed
    _installed = build([*shipped_specs(), *extra])


def rules() -> dict[str, list[Rule]]:
    """Every rule in use, its versions newest first (the shipped ones unless others were installed)."""
    global _installed
    if _installed is None:
        _installed = build(shipped_specs())
    return _installed


PENALTY_KINDS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "90", "99")
CODE_PATTERN = re.compile(r"^[A-Z]{1,4}-[0-9A-Z-]{1,24}$")


def check_spec(spec: Mapping[str, Any]) -> None:
    """A rule as data, checked before it is used: every problem named by its field."""
    from jianguan.reference import laws

    problems: list[Invalid] = []

    def bad(field_name: str, message: str, **params: Any) -> None:
        problems.append(Invalid(field_name, message, **params))

    if not CODE_PATTERN.match(str(spec.get("code", ""))):
        bad("code", N_("A rule code is letters, a hyphen and the article, e.g. SP-124."))
    if not str(spec.get("title", "")).strip():
        bad("title", N_("Describe the violation."))
    start, end = spec.get("effective_from"), spec.get("effective_to")
    if not isinstance(start, dt.date):
        bad("effective_from", N_("Give the date the rule takes effect."))
    elif end is not None and (not isinstance(end, dt.date) or end <= start):
        bad("effective_to", N_("A rule ends after it starts."))
    for key in ("violated", "penalty"):
        ref = spec.get(key) or {}
        try:
            laws.cite(str(ref.get("law", "")), str(ref.get("article", "")), field=key)
        except Invalid as error:
            problems.append(error)
    for key in ("kinds", "heavier_kinds"):
        unknown = [k for k in spec.get(key) or [] if str(k) not in PENALTY_KINDS]
        if unknown:
            bad(key, N_("Unknown code(s) {codes} for {name}."), codes=", ".join(map(str, unknown)), name=key)
    if not spec.get("kinds"):
        bad("kinds", N_("Name the penalty kinds."))
    brackets = spec.get("range") or []
    if not brackets:
        bad("range", N_("Give the legal range."))
    for bracket in brackets:
        fixed = [bracket.get("min"), bracket.get("max")]
        times = [bracket.get("min_times"), bracket.get("max_times")]
        try:
            if all(v is not None for v in fixed):
                if Decimal(str(fixed[0])) > Decimal(str(fixed[1])) or Decimal(str(fixed[0])) < 0:
                    bad("range", N_("A range runs from a lower to a higher amount, neither below zero."))
            elif all(v is not None for v in times):
                if Decimal(str(times[0])) > Decimal(str(times[1])) or Decimal(str(times[0])) < 0:
                    bad("range", N_("A range runs from a lower to a higher amount, neither below zero."))
                if facts().get(str(bracket.get("of", ""))) is None or facts()[bracket["of"]].type != "amount":
                    bad("range", N_("A multiple is of an amount fact, e.g. goods_value."))
            else:
                bad("range", N_("Each part of the range gives min and max, or min_times, max_times and of."))
        except InvalidOperation:
            bad("range", N_("A range runs from a lower to a higher amount, neither below zero."))
        _check_condition(bracket.get("when"), "range", problems)
    tiers = spec.get("tiers") or {}
    for tier, condition in tiers.items():
        if tier not in ("no_penalty", "mitigated", "lighter", "heavier"):
            bad("tiers", N_("Unknown tier {tier}."), tier=tier)
        else:
            _check_condition(condition, tier, problems)
    for key, value in (spec.get("shares") or {}).items():
        try:
            if key not in ("lighter", "heavier") or not 0 < Decimal(str(value)) < 50:
                bad("shares", N_("The lighter and heavier shares are percentages between 0 and 50."))
        except InvalidOperation:
            bad("shares", N_("The lighter and heavier shares are percentages between 0 and 50."))
    if problems:
        raise Invalid.all(problems)


def _check_condition(condition: Any, where: str, problems: list[Invalid]) -> None:
    if condition is None:
        return
    if not isinstance(condition, Mapping):
        problems.append(Invalid(where, N_("A condition is a fact compared with a value, or all / any / not of "
                                          "conditions.")))
        return
    for key in ("all", "any"):
        if key in condition:
            for part in condition[key] or []:
                _check_condition(part, where, problems)
            return
    if "not" in condition:
        _check_condition(condition["not"], where, problems)
        return
    fact = facts().get(str(condition.get("fact", "")))
    ops = [o for o in OPS if o in condition]
    if fact is None:
        problems.append(Invalid(where, N_("Unknown case fact {name}."), name=str(condition.get("fact", ""))))
        return
    if len(ops) != 1:
        problems.append(Invalid(where, N_("Compare {name} with one of =, !=, <, <=, >, >=, in."), name=fact.key))
        return
    values = condition[ops[0]] if ops[0] == "in" else [condition[ops[0]]]
    for value in values if isinstance(values, list) else [values]:
        try:
            _typed(fact, value)
        except (InvalidOperation, ValueError, TypeError):
            problems.append(Invalid(where, N_("{label}: the value {value} is not valid."), label=fact.label,
                                    value=str(value)))


def facts_of(rule: Rule) -> list[str]:
    """The facts a rule speaks of, in the order of the fact list (what its facts form asks)."""
    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if "fact" in node:
                named.add(node["fact"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(rule.conditions)
    for bracket in rule.brackets:
        walk(bracket.when)
        if bracket.of:
            named.add(bracket.of)
    return [key for key in facts() if key in named]


def rule_for(code: str, on: dt.date) -> Rule:
    """The version in force on the day of the act (从旧; the lighter new rule is the caller's comparison)."""
    versions = rules().get(code)
    if not versions:
        raise NotFound(N_("No discretion rule {code}."), code=code)
    for rule in versions:
        if rule.in_force(on):
            return rule
    raise Invalid("rule", N_("Rule {code} has no version in force on {date}."), code=code, date=on.isoformat())


# --------------------------------------------------------------------------- the suggestion


def tier_ranges(low: Decimal, high: Decimal, shares: Mapping[str, Decimal] = DEFAULT_SHARES,
                ) -> dict[str, tuple[Decimal, Decimal]]:
    """从轻 the lowest share, 从重 the top share, 一般 between: 1–3× → 1–1.6×, 1.6–2.4×, 2.4–3×."""
    if high < low:
        raise ValueError("the range's maximum is below its minimum")
    width = high - low
    lighter_top = yuan(low + width * shares["lighter"] / 100)
    heavier_bottom = yuan(high - width * shares["heavier"] / 100)
    heavier_bottom = max(heavier_bottom, lighter_top)
    return {"lighter": (low, lighter_top), "ordinary": (lighter_top, heavier_bottom),
            "heavier": (heavier_bottom, high)}


@dataclass(frozen=True)
class Suggestion:
    rule: str
    version: int
    tier: str
    legal_range: tuple[Decimal, Decimal]
    range: tuple[Decimal, Decimal] | None  # None: no fine (不予处罚)
    kinds: tuple[str, ...]
    basis: str
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        def money(pair: tuple[Decimal, Decimal] | None) -> list[str] | None:
            return None if pair is None else [f"{pair[0]:.2f}", f"{pair[1]:.2f}"]

        return {"rule": self.rule, "version": self.version, "tier": self.tier, "tier_name": TIER_NAMES[self.tier],
                "legal_range": money(self.legal_range), "range": money(self.range), "kinds": list(self.kinds),
                "basis": self.basis, "reasons": list(self.reasons)}


def basis_text(rule: Rule) -> str:
    from jianguan.reference import laws

    violated = laws.cite(*rule.violated)
    imposing = laws.cite(*rule.imposing)
    return (f"违反《{violated.law.title}》{violated.article_no}；依据《{imposing.law.title}》{imposing.article_no}："
            f"{imposing.text}")


def suggest(code: str, raw_facts: Mapping[str, Any], *, on: dt.date) -> Suggestion:
    """The tier, range, kinds, basis and reasons for a case's facts (act committed ``on``)."""
    rule = rule_for(code, on)
    values = parse_facts(raw_facts)
    bracket = next((b for b in rule.brackets if b.when is None or holds(b.when, values, [])), rule.brackets[-1])
    low, high = bracket.amounts(values)
    reasons: list[str] = []
    found: dict[str, list[str]] = {}
    for tier in ("no_penalty", "mitigated", "lighter", "heavier"):
        why: list[str] = []
        if holds(rule.conditions.get(tier), values, why):
            found[tier] = why
    legal = (low, high)
    basis = basis_text(rule)
    if "no_penalty" in found:
        return Suggestion(rule.code, rule.version, "no_penalty", legal, None, (), basis,
                          tuple(found["no_penalty"]))
    ranges = tier_ranges(low, high, rule.shares)
    if "mitigated" in found:
        tier, span = "mitigated", (Decimal("0.00"), low)
        reasons = found["mitigated"]
    elif "lighter" in found and "heavier" in found:
        tier, span = "ordinary", ranges["ordinary"]
        reasons = [*found["lighter"], *found["heavier"], "从轻与从重情节并存，综合裁量"]
    elif "heavier" in found:
        tier, span, reasons = "heavier", ranges["heavier"], found["heavier"]
    elif "lighter" in found:
        tier, span, reasons = "lighter", ranges["lighter"], found["lighter"]
    else:
        tier, span, reasons = "ordinary", ranges["ordinary"], ["无从轻、从重情节"]
    kinds = rule.kinds + (rule.heavier_kinds if tier == "heavier" else ())
    return Suggestion(rule.code, rule.version, tier, legal, span, kinds, basis, tuple(reasons))


def check_choice(suggestion: Suggestion, amount: Decimal, reason: str = "") -> bool:
    """Whether an officer's fine deviates from the suggested range (True: the legal reviewer must clear
    it). Outside the legal range is refused outright, except below it in a 减轻 tier; a deviation
    needs a written reason."""
    amount = yuan(amount)
    low, high = suggestion.legal_range
    if suggestion.range is None:
        if amount != 0:
            if not reason.strip():
                raise Invalid("reason", N_("A fine where the benchmark says no penalty needs a written reason."))
            return True
        return False
    if amount > high or (amount < low and suggestion.tier != "mitigated"):
        raise Invalid("amount", N_("The fine {amount} is outside the legal range {low}–{high}."),
                      amount=f"{amount:.2f}", low=f"{low:.2f}", high=f"{high:.2f}")
    inside = suggestion.range[0] <= amount <= suggestion.range[1]
    if not inside and not reason.strip():
        raise Invalid("reason", N_("A fine outside the suggested range {low}–{high} needs a written reason."),
                      low=f"{suggestion.range[0]:.2f}", high=f"{suggestion.range[1]:.2f}")
    return not inside
