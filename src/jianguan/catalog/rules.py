"""Applicability rules of checklist templates and of single template points, as data.

A rule is a mapping ``{key: [values]}``: every key must match, and within a key any value. Keys:
entity_kind, industry_prefix (digits of a GB/T 4754 code), scale, risk_level, credit_class,
licence_type, tags. An empty rule matches every entity. Evaluating one returns the reasons in
Chinese ("行业 6210 → 62 餐饮业"), so a checklist can say why each point is there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from jianguan.catalog.schemas import RULE_KEYS
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_, gettext

DOMAIN_OF = {"entity_kind": "entity_kind", "scale": "enterprise_scale", "risk_level": "risk_level",
             "credit_class": "credit_class", "licence_type": "licence_type", "tags": "entity_tag"}
PREFIX = re.compile(r"^\d{2,4}$")
LABELS = {
    "entity_kind": N_("Entity kind: {label}"),
    "industry_prefix": N_("Industry {code} → {prefix} {label}"),
    "scale": N_("Scale: {label}"),
    "risk_level": N_("Risk level: {label}"),
    "credit_class": N_("Credit class: {label}"),
    "licence_type": N_("Licence held: {label}"),
    "tags": N_("Tag: {label}"),
}


@dataclass(frozen=True)
class Profile:
    """What rules look at in an entity."""

    kind: str = ""
    industry_code: str = ""
    scale: str = ""
    risk_level: str = ""
    credit_class: str = ""
    licence_types: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()


def validate(rule: Mapping[str, object], known: Callable[[str], set[str]], *, field: str = "applies") -> dict[
        str, list[str]]:
    """The rule cleaned, or Invalid naming the key and the value. ``known(domain)``: its codes."""
    out: dict[str, list[str]] = {}
    for key, values in rule.items():
        if key not in RULE_KEYS:
            raise Invalid(f"{field}.{key}", N_("Unknown rule key {key}; use one of {keys}."), key=key,
                          keys=", ".join(RULE_KEYS))
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise Invalid(f"{field}.{key}", N_("Give a list of values for {key}."), key=key)
        cleaned = [str(v).strip() for v in values if str(v).strip()]
        if not cleaned:
            continue
        if key == "industry_prefix":
            bad = [v for v in cleaned if not PREFIX.match(v)]
        else:
            codes = known(DOMAIN_OF[key])
            bad = [v for v in cleaned if v not in codes]
        if bad:
            raise Invalid(f"{field}.{key}", N_("Unknown value(s) {values} for {key}."), values=", ".join(bad), key=key)
        out[key] = list(dict.fromkeys(cleaned))
    return out


def evaluate(rule: Mapping[str, Sequence[str]], profile: Profile,
             label: Callable[[str, str], str] = lambda domain, code: code) -> tuple[bool, list[str]]:
    """(matches, reasons): one reason per key of the rule, naming the entity's value that matched."""
    reasons = []
    for key, values in rule.items():
        if not values:
            continue
        if key == "industry_prefix":
            prefix = next((p for p in values if profile.industry_code.startswith(p)), None)
            if prefix is None:
                return False, []
            reasons.append(gettext(LABELS[key], "zh_CN").format(code=profile.industry_code, prefix=prefix,
                                                                label=label("industry", prefix)))
            continue
        held = {"entity_kind": {profile.kind}, "scale": {profile.scale}, "risk_level": {profile.risk_level},
                "credit_class": {profile.credit_class}, "licence_type": set(profile.licence_types),
                "tags": set(profile.tags)}[key]
        hit = next((v for v in values if v in held), None)
        if hit is None:
            return False, []
        reasons.append(gettext(LABELS[key], "zh_CN").format(label=label(DOMAIN_OF[key], hit)))
    return True, reasons


def specificity(rule: Mapping[str, Sequence[str]]) -> int:
    """How much a rule says about the entity: the number of keys it constrains."""
    return sum(1 for values in rule.values() if values)


KEY_LABELS = {"entity_kind": N_("Entity kind"), "industry_prefix": N_("Industry"), "scale": N_("Scale"),
              "risk_level": N_("Risk level"), "credit_class": N_("Credit class"), "licence_type": N_("Licence held"),
              "tags": N_("Tag")}


def describe(rule: Mapping[str, Sequence[str]], label: Callable[[str, str], str] = lambda domain, code: code,
             locale: str = "zh_CN") -> list[str]:
    """A rule in words, one phrase per key: "行业：62 餐饮业" / "规模：小型、微型"."""
    out = []
    for key, values in rule.items():
        if not values:
            continue
        domain = "industry" if key == "industry_prefix" else DOMAIN_OF.get(key, key)
        shown = "、".join(f"{v} {label(domain, v)}".strip() if key == "industry_prefix" else label(domain, v)
                         for v in values)
        out.append(f"{gettext(KEY_LABELS.get(key, key), locale)}：{shown}")
    return out

