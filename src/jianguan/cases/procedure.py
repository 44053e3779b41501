"""Procedural thresholds as data (cases/data/procedure.yaml): which proposed penalties carry the right
to a hearing (行政处罚法第六十三条) and which cases are major — 法制审核 and 集体讨论 (SAMR 程序规定第五十条、
第六十条). Pure; the case workflow asks these when the case is reported and noticed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def standards() -> dict[str, Any]:
    text = resources.files("jianguan.cases").joinpath("data/procedure.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _over(limits: Mapping[str, Any], party_kind: str, amount: Decimal | None) -> bool:
    limit = limits.get(party_kind)
    return amount is not None and limit is not None and amount >= Decimal(str(limit))


def _reasons(section: str, *, party_kind: str, kinds: Iterable[str], fine: Decimal | None,
             confiscation: Decimal | None) -> list[str]:
    spec = standards()[section]
    found = []
    if _over(spec.get("fine_at_least", {}), party_kind, fine):
        found.append("fine")
    if _over(spec.get("confiscation_at_least", {}), party_kind, confiscation):
        found.append("confiscation")
    found += [f"kind:{k}" for k in kinds if k in spec.get("kinds", [])]
    return found


def hearing_grounds(*, party_kind: str, kinds: Iterable[str], fine: Decimal | None,
                    confiscation: Decimal | None = None) -> list[str]:
    """Why the party may ask for a hearing (empty: no right): "fine", "confiscation", "kind:8" …"""
    return _reasons("hearing", party_kind=party_kind, kinds=kinds, fine=fine, confiscation=confiscation)


def major_grounds(*, party_kind: str, kinds: Iterable[str], fine: Decimal | None,
                  confiscation: Decimal | None = None, declared: Iterable[str] = ()) -> list[str]:
    """Why the case needs 法制审核 and 集体讨论: amounts and kinds from the data, plus the grounds the
    officer declared (public interest, complexity …)."""
    known = standards()["major"].get("grounds", {})
    return _reasons("major", party_kind=party_kind, kinds=kinds, fine=fine, confiscation=confiscation) + [
        g for g in declared if g in known]


def ground_labels() -> dict[str, str]:
    return dict(standards()["major"].get("grounds", {}))
