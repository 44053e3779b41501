"""Coded values the entity registry checks, read through the reference package.

Falls back to the national defaults of the issue-4 spec when the value-domain tables are empty
(a bare test database), so the registry never accepts free text for a coded field.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from sqlalchemy.orm import Session

FALLBACK: dict[str, dict[str, str]] = {
    "entity_kind": {"enterprise": "企业", "individual_business": "个体工商户",
                    "cooperative": "农民专业合作社", "natural_person": "特定自然人",
                    "government_unit": "政府部门（督查对象）"},
    "entity_status": {"active": "存续", "cancelled": "注销", "revoked": "吊销", "moved_out": "迁出"},
    "enterprise_scale": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "credit_class": {"A": "A级（守信）", "B": "B级（基本守信）", "C": "C级（失信）", "D": "D级（严重失信）"},
    "risk_level": {"red": "高风险（红）", "yellow": "中风险（黄）", "blue": "低风险（蓝）"},
    "licence_type": {"food_business": "食品经营许可证", "food_production": "食品生产许可证",
                     "pollutant_discharge": "排污许可证", "road_transport": "道路运输经营许可证",
                     "hazardous_chemicals": "危险化学品经营许可证", "special_equipment": "特种设备使用登记证",
                     "industrial_product": "工业产品生产许可证", "drug_business": "药品经营许可证"},
    "credential_status": {"valid": "有效", "suspended": "暂扣", "revoked": "吊销"},
    "entity_tag": {"abnormal_list": "经营异常名录", "key_industry": "重点行业", "complaint_heavy": "投诉集中",
                   "serious_violation": "严重违法失信", "first_violation_waiver": "首违不罚"},
}

# GB/T 4754-2017 sections (门类) → their range of two-digit divisions (大类), for section filters.
SECTIONS: dict[str, tuple[str, str]] = {
    "A": ("01", "05"), "B": ("06", "12"), "C": ("13", "43"), "D": ("44", "46"), "E": ("47", "50"),
    "F": ("51", "52"), "G": ("53", "60"), "H": ("61", "62"), "I": ("63", "65"), "J": ("66", "69"),
    "K": ("70", "70"), "L": ("71", "72"), "M": ("73", "75"), "N": ("76", "79"), "O": ("80", "82"),
    "P": ("83", "83"), "Q": ("84", "85"), "R": ("86", "90"), "S": ("91", "96"), "T": ("97", "97"),
}
INDUSTRY_RE = re.compile(r"^(?:[A-T]|\d{2}|\d{3}|\d{4})$")


def _reference() -> Any:
    try:
        return importlib.import_module("jianguan.reference.service")
    except ImportError:  # pragma: no cover - only before the reference package exists
        return None


CACHE = "jianguan.entities.codes"  # db.info key: set by bulk upserts so lookups are read once


def _items(db: Session, domain: str) -> list[Any]:
    cache: dict[str, Any] | None = db.info.get(CACHE)
    if cache is not None and domain in cache:
        return list(cache[domain])
    ref = _reference()
    items = list(ref.domain_items(db, domain)) if ref is not None else []
    if cache is not None:
        cache[domain] = items
    return items


def resolve(db: Session, domain: str, value: str | None) -> str | None:
    """Code or Chinese name → code; None when the value is not in the domain."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    items = _items(db, domain)
    if items:  # one query; the same matching as reference.service.resolve
        folded = value.casefold()
        return (next((i.code for i in items if i.code == value), None)
                or next((i.code for i in items if i.name == value), None)
                or next((i.code for i in items if i.code.casefold() == folded), None))
    table = FALLBACK.get(domain, {})
    if value in table:
        return value
    return next((code for code, name in table.items() if name == value), None)


def label(db: Session, domain: str, code: str | None) -> str:
    if not code:
        return ""
    items = _items(db, domain)
    found = next((str(i.name) for i in items if i.code == code), None)
    if found is not None:
        return found
    ref = _reference()
    if items and ref is not None:  # a retired code on an old record
        return str(ref.label(db, domain, code))
    return FALLBACK.get(domain, {}).get(code, code)


def labels(db: Session, domain: str) -> dict[str, str]:
    """code → name for select boxes, in the domain's order."""
    items = _items(db, domain)
    if items:
        return {i.code: i.name for i in items}
    return dict(FALLBACK.get(domain, {}))


def region_name(db: Session, code: str | None) -> str:
    if not code:
        return ""
    ref = _reference()
    if ref is not None and hasattr(ref, "region_name"):
        try:
            return str(ref.region_name(db, code) or code)
        except Exception:
            return code
    return code


def industry_name(db: Session, code: str | None) -> str:
    if not code:
        return ""
    ref = _reference()
    name = ref.industry_name(db, code) if ref is not None and hasattr(ref, "industry_name") else None
    return str(name) if name else ""


def is_region_checker(db: Session) -> Any:
    """A ``code -> bool`` callable for USCC division checks, or None when regions are not loaded."""
    ref = _reference()
    if ref is None or not hasattr(ref, "is_region"):
        return None
    cache: dict[str, Any] | None = db.info.get(CACHE)
    if cache is not None and hasattr(ref, "region_codes"):
        if "regions" not in cache:
            cache["regions"] = frozenset(ref.region_codes(db))
        known: frozenset[str] = cache["regions"]
        return known.__contains__ if known else None
    try:
        loaded = bool(ref.is_region(db, "110000"))  # 北京市: absent means the table is not loaded
    except Exception:
        loaded = False
    return (lambda code: bool(ref.is_region(db, code))) if loaded else None
