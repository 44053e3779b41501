"""A committed database of its own for chain tests: tampering is done with plain SQL, as an
intruder with database access would, and must be found by ``verify``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.models import AuditEntry
from jianguan.db import session_factory


@pytest.fixture
def chain_db(fresh_db_url: str) -> Iterator[Session]:
    session = session_factory()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def append(db: Session, n: int, *, action: str = "test.write") -> list[AuditEntry]:
    """``n`` committed entries about test objects 1..n."""
    entries = [
        audit.record(db, actor=None, action=action, object_type="thing", object_id=i,
                     payload={"i": i}, detail={"i": i, "名称": f"第{i}件"})
        for i in range(1, n + 1)
    ]
    db.commit()
    return entries
