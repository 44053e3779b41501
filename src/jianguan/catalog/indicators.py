"""The "8+36" indicator system: a tree (domains → indicators → sub-indicators…) with weights per
year. At every node the weights of its children sum to exactly 100, and so do the domains'.
Check points name a leaf indicator; ``roll_up`` turns point results into indicator and domain
scores (0–100) for the assessment work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.catalog.models import Indicator, IndicatorWeight
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_

HUNDRED = Decimal(100)


@dataclass
class Node:
    indicator: Indicator
    weight: Decimal | None
    children: list[Node] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.indicator.code


def tree(db: Session, *, year: int) -> list[Node]:
    """The domains with their descendants, each with its weight in ``year`` (None: not set)."""
    rows = list(db.scalars(select(Indicator).order_by(Indicator.level, Indicator.position, Indicator.code)))
    weights = dict(db.execute(select(IndicatorWeight.indicator_id, IndicatorWeight.weight)
                              .where(IndicatorWeight.year == year)).all())
    nodes = {i.id: Node(i, weights.get(i.id)) for i in rows}
    roots: list[Node] = []
    for i in rows:
        (nodes[i.parent_id].children if i.parent_id in nodes else roots).append(nodes[i.id])
    return roots


def walk(nodes: list[Node]) -> list[Node]:
    """The nodes and all their descendants, depth first."""
    return [n for node in nodes for n in (node, *walk(node.children))]


def leaf_codes(db: Session) -> frozenset[str]:
    parents = set(db.scalars(select(Indicator.parent_id).where(Indicator.parent_id.is_not(None))))
    return frozenset(c for i, c in db.execute(select(Indicator.id, Indicator.code)) if i not in parents)


def years(db: Session) -> list[int]:
    return sorted(set(db.scalars(select(IndicatorWeight.year))))


def weight_problems(weights: Mapping[str, Decimal], groups: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """Groups (a parent's code, or "" for the domains) whose weights do not sum to exactly 100, or
    that hold a negative weight: [{"field", "message"…}] for the editor to show beside each group."""
    problems = []
    for parent, codes in groups.items():
        missing = [c for c in codes if c not in weights]
        if missing:
            problems.append({"field": parent or "domains", "code": "missing", "codes": ", ".join(missing)})
            continue
        negative = [c for c in codes if weights[c] < 0]
        if negative:
            problems.append({"field": parent or "domains", "code": "negative", "codes": ", ".join(negative)})
            continue
        total = sum((weights[c] for c in codes), Decimal(0))
        if total != HUNDRED:
            problems.append({"field": parent or "domains", "code": "sum", "total": f"{total.normalize():f}"})
    return problems


MESSAGES = {
    "missing": N_("Give a weight to {codes}."),
    "negative": N_("A weight cannot be negative ({codes})."),
    "sum": N_("The weights under {group} sum to {total}, not 100."),
}


def _groups(db: Session) -> dict[str, list[str]]:
    rows = db.execute(select(Indicator.code, Indicator.parent_id, Indicator.id)).all()
    code_of = {i: c for c, _, i in rows}
    groups: dict[str, list[str]] = defaultdict(list)
    for code, parent, _ in rows:
        groups[code_of.get(parent, "") if parent else ""].append(code)
    return dict(groups)


def set_weights(db: Session, *, year: int, weights: Mapping[str, Decimal | str | int], actor: User | None,
                check_role: bool = True) -> None:
    """Replace the weights of ``year`` — all of them at once, so every group is checked whole; any
    group not summing to exactly 100 refuses the lot with one message per group."""
    if check_role and actor is not None and not (actor.is_system_admin or actor.has_role("leader")):
        raise Forbidden(N_("Only a leader or a system administrator sets indicator weights."))
    if not 2000 <= year <= 2100:
        raise Invalid("year", N_("Give a year between 2000 and 2100."))
    parsed: dict[str, Decimal] = {}
    for code, value in weights.items():
        try:
            parsed[code] = Decimal(str(value).strip())
        except ArithmeticError:
            raise Invalid(code, N_("{value} is not a number."), value=value) from None
        if not parsed[code].is_finite() or parsed[code] != parsed[code].quantize(Decimal("0.01")):
            raise Invalid(code, N_("A weight has at most two decimals."))
    groups = _groups(db)
    known = {c for codes in groups.values() for c in codes}
    unknown = sorted(set(parsed) - known)
    if unknown:
        raise Invalid("weights", N_("Unknown indicator(s) {codes}."), codes=", ".join(unknown))
    problems = weight_problems(parsed, groups)
    if problems:
        raise Invalid.all([Invalid(p["field"], MESSAGES[p["code"]], group=p["field"],
                                   **{k: v for k, v in p.items() if k not in ("field", "code")}) for p in problems])
    ids = dict(db.execute(select(Indicator.code, Indicator.id)).all())
    existing = {w.indicator_id: w for w in db.scalars(select(IndicatorWeight).where(IndicatorWeight.year == year))}
    for code, value in parsed.items():
        row = existing.get(ids[code])
        if row is None:
            db.add(IndicatorWeight(indicator_id=ids[code], year=year, weight=value,
                                   set_by=actor.id if actor else None))
        else:
            row.weight, row.set_by = value, actor.id if actor else None
    db.flush()
    audit.record(db, actor=actor, action="catalog.indicator_weights", object_type="indicator_weights",
                 object_id=year, payload={k: str(v) for k, v in sorted(parsed.items())}, detail={"year": year})


def roll_up(db: Session, *, year: int, leaf_scores: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Scores 0–100 per node from leaf scores: a parent's is the weighted mean of its children that
    have a score (weights renormalised over them: an indicator nobody checked does not count as 0)."""
    out: dict[str, Decimal] = {}

    def score(node: Node) -> Decimal | None:
        if not node.children:
            value = leaf_scores.get(node.code)
            if value is not None:
                out[node.code] = Decimal(value)
            return out.get(node.code)
        parts = [(score(c), c.weight or Decimal(0)) for c in node.children]
        scored = [(s, w) for s, w in parts if s is not None and w > 0]
        total = sum((w for _, w in scored), Decimal(0))
        if not scored or total == 0:
            return None
        out[node.code] = (sum((s * w for s, w in scored), Decimal(0)) / total).quantize(Decimal("0.01"))
        return out[node.code]

    for root in tree(db, year=year):
        score(root)
    return out
