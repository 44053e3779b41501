"""Entity search (scoped, filtered, sorted, paginated), masked views and exports.

Every filter maps to an indexed column; region and industry filters are prefix ranges so they use
the b-tree indexes; a name substring uses the PostgreSQL trigram index when it exists.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import region_prefix, visible
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.core.masking import mask_id_number, mask_phone
from jianguan.entities import codes
from jianguan.entities.models import Entity, EntityTag
from jianguan.entities.service import RESTRICTED, get_entity

USCC_LIKE = re.compile(r"^[0-9A-Z]{18}$")
SORTS: dict[str, Any] = {
    "name": Entity.name, "uscc": Entity.uscc, "region_code": Entity.region_code,
    "industry_code": Entity.industry_code, "credit_class": Entity.credit_class,
    # By severity, not spelling: blue < yellow < red (unset first).
    "risk_level": case({"blue": 1, "yellow": 2, "red": 3}, value=Entity.risk_level, else_=0),
    "established_on": Entity.established_on,
    "updated_at": Entity.updated_at, "id": Entity.id,
}
EXPORT_COLUMNS = ("uscc", "name", "kind", "status", "region_code", "address", "industry_code", "scale",
                  "registered_capital", "established_on", "closed_on", "legal_rep_name",
                  "legal_rep_id_number", "contact_phone", "credit_class", "risk_level",
                  "under_supervision_since", "source_system")
MAX_EXPORT = 200_000


@dataclass
class Filters:
    q: str | None = None
    region_code: str | None = None
    industry_code: str | None = None
    kind: str | None = None
    status: str | None = None
    credit_class: str | None = None
    risk_level: str | None = None
    tag: str | None = None
    sort: str = "name"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


def _industry_clause(code: str) -> ColumnElement[bool]:
    code = code.strip().upper()
    if not codes.INDUSTRY_RE.match(code):
        raise Invalid("industry_code", N_("Industry filter must be a section letter or 2–4 digits."))
    if code in codes.SECTIONS:
        lo, hi = codes.SECTIONS[code]
        return and_(Entity.industry_code >= lo, Entity.industry_code < f"{int(hi) + 1:02d}")
    return Entity.industry_code.between(code.ljust(4, "0"), code.ljust(4, "9"))  # a b-tree range, as regions


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where(filters: Filters, actor: User) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [visible(Entity, actor)]
    q = (filters.q or "").strip()
    if q:
        if USCC_LIKE.match(q.upper()):
            clauses.append(Entity.uscc == q.upper())
        else:
            clauses.append(Entity.name.like(f"%{_like_escape(q)}%", escape="\\"))
    if filters.region_code:
        region = filters.region_code.strip()
        if not re.fullmatch(r"\d{2}(\d{2}(\d{2})?)?", region):
            raise Invalid("region_code", N_("Region code must be six digits (GB/T 2260)."))
        prefix = region_prefix(region) if len(region) == 6 else region
        # A range of six-digit codes, not LIKE: a b-tree serves it under any collation. A county is
        # one code: equality lets the (region_code, name) index hand rows over already sorted.
        lo, hi = prefix.ljust(6, "0"), prefix.ljust(6, "9")
        clauses.append(Entity.region_code == lo if len(prefix) == 6 else Entity.region_code.between(lo, hi))
    if filters.industry_code:
        clauses.append(_industry_clause(filters.industry_code))
    for name in ("kind", "status", "credit_class", "risk_level"):
        value = getattr(filters, name)
        if value:
            clauses.append(getattr(Entity, name) == value)
    if filters.tag:
        clauses.append(Entity.id.in_(select(EntityTag.entity_id).where(
            EntityTag.tag == filters.tag, EntityTag.until.is_(None))))
    return clauses


def _ordered(stmt: Select[Any], sort: str) -> Select[Any]:
    desc = sort.startswith("-")
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        raise Invalid("sort", N_("Unknown sort field: {value}"), value=sort)
    return stmt.order_by(column.desc() if desc else column.asc(), Entity.id.desc() if desc else Entity.id)


def search_entities(
    db: Session, *, actor: User, filters: Filters | None = None, offset: int = 0, limit: int = 50,
    count: bool = True, **kwargs: Any,
) -> tuple[list[Entity], int | None]:
    """One page of the entities ``actor`` may see; ``kwargs`` are ``Filters`` fields. → (rows, total)."""
    filters = filters or Filters(**kwargs)
    clauses = where(filters, actor)
    rows = list(db.scalars(_ordered(select(Entity).where(*clauses), filters.sort)
                          .offset(offset).limit(min(limit, 500))))
    total = db.scalar(select(func.count()).select_from(Entity).where(*clauses)) if count else None
    return rows, total


# --- masking -----------------------------------------------------------------------------------


def may_read_restricted(actor: User | None, purpose: str | None) -> bool:
    """For now only system admins who state a purpose see restricted fields in clear (受限使用类)."""
    return actor is not None and actor.is_system_admin and bool(purpose and purpose.strip())


def entity_dict(entity: Entity, *, clear: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {c.key: getattr(entity, c.key) for c in Entity.__table__.columns
                           if not c.key.endswith("_hash") and c.key != "id_number"}
    if not clear:
        out["legal_rep_id_number"] = mask_id_number(entity.legal_rep_id_number)
        out["contact_phone"] = mask_phone(entity.contact_phone)
    out["tags"] = [t.tag for t in entity.tags if t.until is None]
    out["masked"] = not clear
    return out


def read_entity(db: Session, *, entity_id: int, actor: User, purpose: str | None = None) -> dict[str, Any]:
    """One entity as a dict, masked unless ``actor`` may read restricted fields (then audited)."""
    entity = get_entity(db, entity_id=entity_id, actor=actor)
    clear = False
    if purpose:
        if not may_read_restricted(actor, purpose):
            raise Forbidden(N_("You may not read restricted fields."))
        clear = True
        audit.record_restricted_read(db, actor=actor, object_type="entity", object_id=entity.id,
                                     fields=list(RESTRICTED), purpose=purpose)
    return entity_dict(entity, clear=clear)


# --- export ------------------------------------------------------------------------------------


def export_rows(db: Session, *, actor: User, filters: Filters) -> list[list[Any]]:
    clauses = where(filters, actor)
    stmt = _ordered(select(Entity).where(*clauses), filters.sort).limit(MAX_EXPORT)
    rows: list[list[Any]] = []
    for entity in db.scalars(stmt).yield_per(2000):
        data = entity_dict(entity)
        rows.append(["" if data.get(c) is None else data[c] for c in EXPORT_COLUMNS])
    return rows


def export_entities(db: Session, *, actor: User, filters: Filters, fmt: str = "xlsx") -> bytes:
    """The search results as CSV (UTF-8 with BOM, for Excel) or XLSX; scoped, masked and audited."""
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format", N_("Export format must be csv or xlsx."))
    rows = export_rows(db, actor=actor, filters=filters)
    audit.record_export(db, actor=actor, what="entities", filters=filters.as_dict(), row_count=len(rows),
                        fmt=fmt)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows([[str(v) for v in row] for row in rows])
        return ("\ufeff" + buffer.getvalue()).encode()
    return _xlsx(EXPORT_COLUMNS, rows)


def _xlsx(header: Sequence[str], rows: list[list[Any]]) -> bytes:
    import xlsxwriter  # type: ignore[import-untyped]

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet("entities")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, header, bold)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [str(v) if not isinstance(v, int | str) else v for v in row])
    book.close()
    return out.getvalue()
