"""Large imports rebuild indexes and constraints once: what is dropped comes back exactly, and a
failed import leaves every index in place."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from jianguan.core.bulkload import UNIQUE_OFF, _dropped, indexes_off

TABLES = ("entities", "entity_credit_history", "entity_licences")
UNIQUE = ("entities", "entity_licences")


def definitions(db: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    found = _dropped(db, TABLES, UNIQUE)
    return sorted(found.indexes), sorted(found.constraints)


def test_dropped_indexes_and_constraints_come_back_the_same(db: Session) -> None:
    before = definitions(db)
    pg = db.connection().dialect.name == "postgresql"
    names = {name for name, _ in before[0]}
    assert {"ix_entities_name", "ix_entities_region_name", "ix_entity_credit_history_entity"} <= names
    assert ("ix_entity_licences_type_number" in names) is pg  # unique: dropped only as asked, only on PostgreSQL
    assert not any(name.endswith("pkey") for name in names)
    constraints = {name for _, name, _ in before[1]}
    if pg:  # SQLite cannot drop a constraint
        assert {"uq_entities_uscc", "fk_entity_credit_history_entity_id_entities"} <= constraints
    else:
        assert constraints == set()
    with indexes_off(db, TABLES, UNIQUE) as dropped:
        assert definitions(db) == ([], [])
        assert sorted(dropped.indexes) == before[0]
        assert ("entities" in db.info[UNIQUE_OFF][1]) is pg
    assert definitions(db) == before
    assert UNIQUE_OFF not in db.info


def test_a_failed_load_rolls_the_drops_back(db: Session) -> None:
    before = definitions(db)
    savepoint = db.begin_nested()
    with pytest.raises(RuntimeError), indexes_off(db, TABLES, UNIQUE):
        assert definitions(db)[0] == []
        raise RuntimeError("the import failed")
    savepoint.rollback()
    assert definitions(db) == before
