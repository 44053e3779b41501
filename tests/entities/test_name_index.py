"""On PostgreSQL, a name-substring search can use the trigram index (migration 0002)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import BACKEND


@pytest.mark.skipif(BACKEND != "postgresql", reason="pg_trgm is a PostgreSQL index")
def test_name_substring_search_can_use_the_trigram_index(db: Session) -> None:
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in db.execute(
        text("EXPLAIN SELECT id FROM entities WHERE name LIKE :q"), {"q": "%西湖餐饮%"}))
    assert "ix_entities_name_trgm" in plan, plan
