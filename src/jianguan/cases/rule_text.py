"""Rules as one spreadsheet row (the Excel import and export of discretion benchmarks): a rule's
conditions and legal range written as short text a legal officer can edit in a cell, and read back.

Conditions: clauses separated by ``;`` hold when any holds; terms joined by ``&`` must all hold; a term
compares a fact with ``= != < <= > >=`` or ``in a|b``::

    first_violation=true & harm in none|slight & corrected_in_time=true; meritorious=true

The range: one part per line, each an amount range or a multiple of an amount fact, optionally after a
condition and ``=>``::

    goods_value<10000 => 50000-100000
    10x-20x goods_value

A condition that cannot be written this way (a ``not`` of several terms) is written as JSON, which is
read back as it is.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_

SYMBOLS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
INVERSE = {"eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "lte": "gt", "gt": "lte"}
TERM = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(>=|<=|!=|=|<|>|\s+in\s+)\s*(.+?)\s*$")
FIXED = re.compile(r"^\s*([\d,]+(?:\.\d+)?)\s*[-–~]\s*([\d,]+(?:\.\d+)?)\s*$")
TIMES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×倍]\s*[-–~]\s*(\d+(?:\.\d+)?)\s*[x×倍]\s*(?:of\s+)?([a-z_]+)\s*$")
MAX_CLAUSES = 24


class NotText(Exception):
    """The condition has no short text form (it is written as JSON)."""


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dnf(condition: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    if "any" in condition:
        return [clause for part in condition["any"] for clause in _dnf(part)]
    if "all" in condition:
        clauses: list[list[Mapping[str, Any]]] = [[]]
        for part in condition["all"]:
            clauses = [a + b for a, b in itertools.product(clauses, _dnf(part))]
            if len(clauses) > MAX_CLAUSES:
                raise NotText
        return clauses
    if "not" in condition:
        inner = condition["not"]
        op = next((o for o in INVERSE if o in inner), None)
        if "fact" not in inner or op is None:
            raise NotText
        return [[{"fact": inner["fact"], INVERSE[op]: inner[op]}]]
    return [[condition]]


def _term(leaf: Mapping[str, Any]) -> str:
    if "in" in leaf:
        return f"{leaf['fact']} in {'|'.join(_value(v) for v in leaf['in'])}"
    op = next(o for o in SYMBOLS if o in leaf)
    return f"{leaf['fact']}{SYMBOLS[op]}{_value(leaf[op])}"


def condition_text(condition: Mapping[str, Any] | None) -> str:
    if not condition:
        return ""
    try:
        return "; ".join(" & ".join(_term(t) for t in clause) for clause in _dnf(condition))
    except NotText:
        return json.dumps(condition, ensure_ascii=False, default=str)


def _scalar(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "是"):
        return True
    if low in ("false", "否"):
        return False
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text.strip()
    return int(number) if number == number.to_integral_value() else str(number)


def parse_condition(text: str | None, field: str) -> dict[str, Any] | None:
    """The condition a cell says (None when empty); a term that cannot be read names the field."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            raise Invalid(field, N_("The condition is not valid JSON.")) from None
        if not isinstance(loaded, dict):
            raise Invalid(field, N_("The condition is not valid JSON."))
        return loaded
    clauses = []
    for clause in re.split(r"[;；]", text):
        terms = []
        for raw in re.split(r"&|＆|\band\b", clause):
            if not raw.strip():
                continue
            match = TERM.match(raw)
            if match is None:
                raise Invalid(field, N_("Cannot read the condition {term}: write fact=value, fact<number or "
                                        "fact in a|b."), term=raw.strip())
            fact, op, value = match.group(1), match.group(2).strip(), match.group(3)
            if op == "in":
                terms.append({"fact": fact, "in": [_scalar(v) for v in value.split("|") if v.strip()]})
            else:
                name = {v: k for k, v in SYMBOLS.items()}[op]
                terms.append({"fact": fact, name: _scalar(value)})
        if terms:
            clauses.append(terms[0] if len(terms) == 1 else {"all": terms})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"any": clauses}


def _amount(value: Any) -> str:
    number = Decimal(str(value))
    return str(int(number)) if number == number.to_integral_value() else str(number.normalize())


def range_text(brackets: list[Mapping[str, Any]]) -> str:
    lines = []
    for b in brackets:
        when = condition_text(b.get("when"))
        if b.get("min_times") is not None:
            span = f"{_amount(b['min_times'])}x-{_amount(b['max_times'])}x {b['of']}"
        else:
            span = f"{_amount(b['min'])}-{_amount(b['max'])}"
        lines.append(f"{when} => {span}" if when else span)
    return "\n".join(lines)


def parse_range(text: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in (text or "").replace("\r", "").split("\n"):
        if not line.strip():
            continue
        when_text, _, span = line.rpartition("=>")
        fixed, times = FIXED.match(span), TIMES.match(span)
        bracket: dict[str, Any]
        if fixed is not None:
            bracket = {"min": _scalar(fixed.group(1)), "max": _scalar(fixed.group(2))}
        elif times is not None:
            bracket = {"min_times": _scalar(times.group(1)), "max_times": _scalar(times.group(2)),
                       "of": times.group(3)}
        else:
            raise Invalid("range", N_("Cannot read the range {part}: write 50000-100000 or 10x-20x goods_value, "
                                      "after an optional condition and =>."), part=line.strip())
        when = parse_condition(when_text, "range")
        if when is not None:
            bracket = {"when": when, **bracket}
        out.append(bracket)
    return out
