"""Bulk upsert for imports: many rows in one call, never duplicating, one audit entry per batch.

The import pipeline validates rows first (entities.uscc, reference value domains); this writes
them. Existing entities are fetched once per batch by USCC / ID-number hash, value-domain and
region lookups are read once (``codes.CACHE``), and per-row audit entries are replaced by one
``entity.import`` entry naming the counts, so a batch of thousands of rows stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import can_see
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.entities import codes, service
from jianguan.entities.models import Entity

CHUNK = 1000


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    entity_ids: list[int] = field(default_factory=list)  # in row order


@contextmanager
def bulk_mode(db: Session) -> Iterator[None]:
    """Cache lookups and silence per-row audit entries for the duration of a batch."""
    db.info[codes.CACHE] = {}
    db.info[service.BULK] = True
    try:
        yield
    finally:
        db.info.pop(codes.CACHE, None)
        db.info.pop(service.BULK, None)


def _key(row: Mapping[str, Any]) -> tuple[str, str]:
    code = str(row.get("uscc") or "").strip().upper()
    if code:
        return "uscc", code
    number = str(row.get("id_number") or "").strip()
    if number:
        return "id", lookup_hash(number) or ""
    raise Invalid("uscc", N_("A unified social credit code is required (or an ID number for a "
                             "natural person)."))


def _existing(db: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Entity]:
    found: dict[tuple[str, str], Entity] = {}
    usccs = sorted({k for kind, k in keys if kind == "uscc"})
    hashes = sorted({k for kind, k in keys if kind == "id"})
    for i in range(0, len(usccs), CHUNK):
        for e in db.scalars(select(Entity).where(Entity.uscc.in_(usccs[i:i + CHUNK]))):
            found["uscc", e.uscc or ""] = e
    for i in range(0, len(hashes), CHUNK):
        for e in db.scalars(select(Entity).where(Entity.id_number_hash.in_(hashes[i:i + CHUNK]))):
            found["id", e.id_number_hash or ""] = e
    return found


def upsert_many(
    db: Session, *, rows: Sequence[Mapping[str, Any]], actor: User | None, batch: str = "",
    row_offset: int = 0,
) -> UpsertResult:
    """Create or update every row (entity-field keys as in the import template); all or nothing is
    the caller's transaction. ``Invalid`` names the failing row (``row_offset`` + index + 1)."""
    service.require_writer(actor)
    result = UpsertResult()
    with bulk_mode(db):
        keys = [_key(r) for r in rows]
        existing = _existing(db, keys)
        for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
            try:
                entity = existing.get(key)
                if entity is None:
                    entity = service.create_entity(db, data=row, actor=actor)
                    existing[key] = entity
                    result.created += 1
                else:
                    if actor is not None and not can_see(entity, actor):
                        raise Forbidden(N_("This entity is outside your data scope."))
                    version = entity.version
                    data = service.default_agency(db, actor, row) if "agency_code" in row else row
                    service.update_entity(db, entity_id=entity.id, data=data, version=None, actor=actor)
                    db.flush()
                    if entity.version == version:
                        result.unchanged += 1
                    else:
                        result.updated += 1
            except Invalid as error:
                error.details = [{**d, "row": row_offset + index + 1} for d in (error.details or [])]
                raise
            result.entity_ids.append(entity.id)
        db.flush()
    detail = {"batch": batch, "rows": len(rows), "created": result.created, "updated": result.updated,
              "unchanged": result.unchanged}
    audit.record(db, actor=actor, action="entity.import", object_type="entity", object_id=batch or None,
                 payload={**detail, "ids": result.entity_ids}, detail=detail)
    return result
