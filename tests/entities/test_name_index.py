"""Indexes on entity columns: the trigram index for name substrings (migration 0002, PostgreSQL) and
byte-order collation of codes and names (migration 0004), so lists sort alike on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from jianguan.entities import search, service
from jianguan.entities.uscc import make_uscc
from tests.auth.conftest import TwoDistricts, make_two_districts
from tests.conftest import BACKEND
from tests.entities.conftest import entity_data


@pytest.mark.skipif(BACKEND != "postgresql", reason="pg_trgm is a PostgreSQL index")
def test_name_substring_search_can_use_the_trigram_index(db: Session) -> None:
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in db.execute(
        text("EXPLAIN SELECT id FROM entities WHERE name LIKE :q"), {"q": "%西湖餐饮%"}))
    assert "ix_entities_name_trgm" in plan, plan


@pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite compares bytes already")
def test_codes_and_names_use_the_c_collation(db: Session) -> None:
    rows = dict(db.execute(text(
        "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns "
        "WHERE table_name IN ('entities', 'entity_licences') AND collation_name IS NOT NULL")).all())
    for column in ("entities.name", "entities.uscc", "entities.region_code", "entities.industry_code",
                   "entity_licences.licence_type", "entity_licences.number"):
        assert rows.get(column) == "C", (column, rows.get(column))


def test_names_sort_in_code_point_order(db: Session) -> None:
    world: TwoDistricts = make_two_districts(db)
    names = ["b餐馆", "中山店", "A超市", "a超市", "Z商行", "一品斋", "（小）店"]
    for i, name in enumerate(names):
        service.create_entity(db, data=entity_data(make_uscc("9", "1", "330106", f"MA2H{i:04d}"), name, "330106"),
                              actor=world.admin)
    rows, _ = search.search_entities(db, actor=world.admin, region_code="330106", limit=50)
    assert [r.name for r in rows] == sorted(names)  # Python compares strings by code point
    rows, _ = search.search_entities(db, actor=world.admin, region_code="330106", sort="-name", limit=50)
    assert [r.name for r in rows] == sorted(names, reverse=True)
