"""Append to, read and verify the audit chain (审计链).

Every write in every service calls ``record`` in the same transaction (same Session), so the
entry exists exactly when the change does. Exports and restricted reads call ``record_export`` /
``record_restricted_read`` (数据共享必留痕).

Each entry's hash covers its content and the previous entry's hash; the one ``audit_head`` row
holds the tail. An append first UPDATEs that row, which takes its row lock (PostgreSQL) or the
write lock (SQLite) until commit, and only then reads the tail, so two transactions can never
chain onto the same previous hash: the chain cannot fork.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry, AuditHead
from jianguan.config import get_settings
from jianguan.core.crypto import sm3_digest
from jianguan.db import utcnow

if TYPE_CHECKING:
    from jianguan.auth.models import User

GENESIS = "0" * 64
ALGORITHMS = ("sha256", "sm3")
_head: Table = AuditHead.__table__  # type: ignore[assignment]
_log: Table = AuditEntry.__table__  # type: ignore[assignment]


def digest(data: bytes, algorithm: str | None = None) -> str:
    """Hex digest with the chain's algorithm (``JIANGUAN_AUDIT_HASH``: sha256, or sm3 国密)."""
    algorithm = algorithm or get_settings().audit_hash
    if algorithm == "sm3":
        return sm3_digest(data).hex()
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    raise ValueError(f"unknown audit hash algorithm {algorithm!r}")


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def _content_hash(row: Any) -> str:
    """The hash of one entry: every stored column except the id and the hash itself."""
    content = [
        row.at.isoformat(),
        row.actor_id,
        row.actor_name,
        row.action,
        row.object_type,
        row.object_id,
        row.payload_hash,
        row.detail,
        row.algorithm,
        row.prev_hash,
    ]
    return digest(canonical(content), row.algorithm)


def entry_hash(entry: AuditEntry) -> str:
    return _content_hash(entry)


def _lock_head(db: Session) -> str:
    """Lock the tail row until commit and return the hash to chain onto."""
    bump = (
        update(_head).where(_head.c.id == 1).values(appends=_head.c.appends + 1).returning(_head.c.last_hash)
    )
    last_hash = db.execute(bump).scalar()
    if last_hash is not None:
        return str(last_hash)
    try:  # the very first append: create the row (a concurrent first append loses and retries)
        with db.begin_nested():
            db.execute(insert(_head).values(id=1, last_id=0, last_hash=GENESIS, appends=1))
        return GENESIS
    except IntegrityError:
        return str(db.execute(bump).scalar_one())


def record(
    db: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: Any = None,
    payload: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. ``payload`` is hashed only; ``detail`` is stored (no restricted values)."""
    algorithm = get_settings().audit_hash
    db.flush()  # the caller's changes first (a stale write fails here), then the short head lock
    prev_hash = _lock_head(db)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        payload_hash=digest(canonical(payload), algorithm),
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        algorithm=algorithm,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    db.add(entry)
    db.flush()
    db.execute(update(_head).where(_head.c.id == 1).values(last_id=entry.id, last_hash=entry.hash))
    return entry


def record_many(db: Session, entries: Sequence[Mapping[str, Any]], *, actor: User | None = None) -> int:
    """Append many entries at once — the same entries ``record`` would write one by one, chained in
    the given order — with the head locked once (a scan escalating thousands of records). Plain rows,
    no ORM objects: each entry costs two hashes and its share of one bulk insert.
    Each entry: action, object_type, object_id, payload, detail."""
    if not entries:
        return 0
    algorithm = get_settings().audit_hash
    db.flush()
    prev_hash = _lock_head(db)
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    actor_name = actor.username if actor is not None else "system"
    rows: list[dict[str, Any]] = []
    for item in entries:
        row = SimpleNamespace(
            at=now, actor_id=actor_id, actor_name=actor_name, action=item["action"], object_type=item["object_type"],
            object_id=None if item.get("object_id") is None else str(item["object_id"]),
            payload_hash=digest(canonical(item.get("payload")), algorithm),
            detail=json.dumps(item.get("detail") or {}, ensure_ascii=False, sort_keys=True, default=str),
            algorithm=algorithm, prev_hash=prev_hash)
        row.hash = prev_hash = _content_hash(row)
        rows.append(vars(row))
    for i in range(0, len(rows), 5000):
        db.execute(insert(_log), rows[i:i + 5000])
    last_id = db.scalar(select(AuditEntry.id).where(AuditEntry.hash == prev_hash))
    db.execute(update(_head).where(_head.c.id == 1).values(last_id=last_id, last_hash=prev_hash,
                                                           appends=_head.c.appends + len(rows) - 1))
    return len(rows)


def record_export(
    db: Session, *, actor: User | None, what: str, filters: Mapping[str, Any], row_count: int, fmt: str
) -> AuditEntry:
    """Every export or data share in every domain calls this (数据共享必留痕)."""
    detail = {"what": what, "filters": dict(filters), "rows": row_count, "format": fmt}
    return record(db, actor=actor, action="data.export", object_type=what, object_id=None,
                  payload=detail, detail=detail)


def record_restricted_read(
    db: Session,
    *,
    actor: User | None,
    object_type: str,
    object_id: Any,
    fields: list[str],
    purpose: str | None = None,
) -> AuditEntry:
    """A clear (unmasked) read of restricted fields (受限使用类): which fields, not their values."""
    detail = {"fields": sorted(fields), "purpose": purpose}
    return record(db, actor=actor, action="data.restricted_read", object_type=object_type,
                  object_id=object_id, payload=detail, detail=detail)


# --- reading -----------------------------------------------------------------------------------------


def list_entries(
    db: Session,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    action: str | None = None,
    actor_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEntry], int]:
    """Newest first. Callers decide who may read the log (system admins, operators)."""
    stmt = select(AuditEntry)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == str(object_id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(AuditEntry.id.desc()).offset(offset).limit(min(limit, 1000))).all()
    return list(rows), total


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "detail": json.loads(entry.detail or "{}"),
        "payload_hash": entry.payload_hash,
        "algorithm": entry.algorithm,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


# --- verifying ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    code: str | None = None  # stable identifier of the kind of break
    reason: str | None = None
    head_id: int | None = None
    head_hash: str | None = None  # keep it outside the database to anchor the next verify

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "broken_id": self.broken_id, "code": self.code,
                "reason": self.reason, "head_id": self.head_id, "head_hash": self.head_hash}

    def __str__(self) -> str:
        if self.ok:
            return f"OK ({self.checked} entries)"
        return f"BROKEN at entry #{self.broken_id}: {self.reason}"


def _rows(db: Session, upto: int, batch: int) -> Iterator[Row[Any]]:
    """Entries with id ≤ ``upto`` in id order, ``batch`` at a time (keyset pages; no ORM objects)."""
    last = 0
    while True:
        rows = db.execute(
            select(_log).where(_log.c.id > last, _log.c.id <= upto).order_by(_log.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify(db: Session, *, batch: int = 5000, anchors: Mapping[int, str] | None = None) -> VerifyResult:
    """Walk the chain in id order; report the first entry whose hash or link does not hold.

    The tail is read first, in one statement with the highest id, so appends committed while we
    walk are neither a false alarm nor checked. ``anchors`` ({id: hash}, e.g. the head_hash of an
    earlier run kept elsewhere) must still be in the chain: this catches a rewritten chain.
    """
    anchors = dict(anchors or {})
    max_id = select(func.max(_log.c.id)).scalar_subquery()
    head = db.execute(
        select(_head.c.last_id, _head.c.last_hash, _head.c.appends, max_id).where(_head.c.id == 1)
    ).first()
    if head is None:
        first = db.scalar(select(func.min(_log.c.id)))
        if first is not None:
            return VerifyResult(False, 0, first, "head_missing", "the audit_head row is missing")
        if anchors:
            return VerifyResult(False, 0, min(anchors), "anchor", "anchored entry is missing from the chain")
        return VerifyResult(True, 0)
    last_id, last_hash, appends, highest = head
    if highest is not None and highest > last_id:
        extra = db.scalar(select(func.min(_log.c.id)).where(_log.c.id > last_id))
        return VerifyResult(False, 0, extra, "after_tail",
                            f"entry after the recorded tail #{last_id} (inserted outside the chain)",
                            last_id, last_hash)

    def broken(row_id: int | None, code: str, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, row_id, code, reason, last_id, last_hash)

    prev, checked, walked = GENESIS, 0, 0
    for row in _rows(db, last_id, batch):
        checked += 1
        if row.algorithm not in ALGORITHMS:
            return broken(row.id, "algorithm", f"unknown hash algorithm {row.algorithm!r}")
        if row.prev_hash != prev:
            what = f"#{walked}" if walked else "the start of the chain"
            return broken(row.id, "link", f"previous-hash link to {what} broken "
                                          "(an entry before it was removed or edited)")
        if _content_hash(row) != row.hash:
            return broken(row.id, "content", "content does not match its hash (entry edited)")
        if row.id in anchors and anchors.pop(row.id) != row.hash:
            return broken(row.id, "anchor", "hash differs from the anchor kept outside the database")
        prev, walked = row.hash, row.id
    if walked != last_id or prev != last_hash:
        if walked != last_id:
            reason = (f"chain ends at #{walked or 0} but audit_head records #{last_id} "
                      "(entries removed at the end)")
        else:
            reason = "last entry does not match audit_head (edited)"
        return broken(last_id, "tail", reason)
    if anchors:
        missing = min(anchors)
        return broken(missing, "anchor", "anchored entry is missing from the chain")
    if appends != checked:
        return broken(last_id, "count",
                      f"audit_head counts {appends} appends but the chain has {checked} entries")
    return VerifyResult(True, checked, head_id=last_id, head_hash=last_hash)
