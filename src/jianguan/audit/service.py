"""Append to and verify the audit chain.

Every write in every service calls ``record`` in the same transaction (same Session), so the
entry exists exactly when the change does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry, AuditHead
from jianguan.config import get_settings
from jianguan.db import utcnow

if TYPE_CHECKING:
    from jianguan.auth.models import User

GENESIS = "0" * 64


def digest(data: bytes, algorithm: str | None = None) -> str:
    algorithm = algorithm or get_settings().audit_hash
    if algorithm == "sm3":
        from gmssl import func, sm3

        return str(sm3.sm3_hash(func.bytes_to_list(data)))
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    content = [
        entry.at.isoformat(),
        entry.actor_id,
        entry.actor_name,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.payload_hash,
        entry.detail,
        entry.prev_hash,
    ]
    return digest(canonical(content), entry.algorithm)


def _lock_head(db: Session) -> AuditHead:
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before we read the tail,
    # so two transactions can never chain onto the same previous hash.
    bumped = db.execute(update(AuditHead).where(AuditHead.id == 1).values(appends=AuditHead.appends + 1))
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        with db.begin_nested():
            db.add(AuditHead(id=1, last_id=0, last_hash=GENESIS, appends=1))
    head = db.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    db.refresh(head)
    return head


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
    head = _lock_head(db)
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
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(entry)
    db.add(entry)
    db.flush()
    head.last_id = entry.id
    head.last_hash = entry.hash
    db.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "broken_id": self.broken_id, "reason": self.reason}


def _entries(db: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = db.execute(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        db.expunge_all()


def verify(db: Session) -> VerifyResult:
    """Walk the chain in id order; report the first row whose hash or link does not hold."""
    prev = GENESIS
    checked = 0
    last_id = 0
    for entry in _entries(db):
        checked += 1
        if entry.prev_hash != prev:
            return VerifyResult(False, checked, entry.id, "previous-hash link broken (a row was removed or edited)")
        if entry_hash(entry) != entry.hash:
            return VerifyResult(False, checked, entry.id, "content does not match its hash (row edited)")
        prev = entry.hash
        last_id = entry.id
    head = db.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.last_id != last_id):
        return VerifyResult(False, checked, head.last_id, "chain tail missing (rows removed at the end)")
    return VerifyResult(True, checked)
