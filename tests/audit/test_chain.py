"""The audit chain holds on both databases, and any direct edit or delete is found at its row."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.models import AuditEntry
from jianguan.config import reset_settings
from jianguan.core.crypto import sm3_digest, sm3_digest_gmssl
from jianguan.db import session_factory
from tests.audit.conftest import append


def sql(db: Session, statement: str, **params: object) -> None:
    db.execute(text(statement), params)
    db.commit()


def test_clean_chain_verifies_and_reports_its_head(chain_db: Session) -> None:
    entries = append(chain_db, 5)
    result = audit.verify(chain_db)
    assert result.ok and result.checked == 5
    assert str(result) == "OK (5 entries)"
    assert (result.head_id, result.head_hash) == (entries[-1].id, entries[-1].hash)
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert entries[0].prev_hash == audit.GENESIS


def test_empty_chain_verifies(chain_db: Session) -> None:
    assert audit.verify(chain_db).as_dict()["ok"] is True


@pytest.mark.parametrize(
    ("column", "value"),
    [("detail", '{"i": 2, "名称": "改过了"}'), ("action", "test.erase"), ("actor_name", "someone_else"),
     ("object_id", "99"), ("payload_hash", "f" * 64), ("algorithm", "sm3")],
)
def test_direct_update_of_a_row_is_caught_at_that_row(chain_db: Session, column: str, value: str) -> None:
    entries = append(chain_db, 4)
    sql(chain_db, f"UPDATE audit_log SET {column} = :v WHERE id = :id", v=value, id=entries[1].id)
    result = audit.verify(chain_db)
    assert not result.ok
    assert result.broken_id == entries[1].id
    assert result.code == "content"
    assert str(result).startswith(f"BROKEN at entry #{entries[1].id}: ")


def test_direct_update_of_the_time_is_caught(chain_db: Session) -> None:
    entries = append(chain_db, 3)
    sql(chain_db, "UPDATE audit_log SET at = :at WHERE id = :id", at="2026-03-01 08:00:00", id=entries[0].id)
    result = audit.verify(chain_db)
    assert (result.ok, result.broken_id) == (False, entries[0].id)


def test_deleting_a_middle_row_is_caught_at_the_next_row(chain_db: Session) -> None:
    entries = append(chain_db, 5)
    sql(chain_db, "DELETE FROM audit_log WHERE id = :id", id=entries[2].id)
    result = audit.verify(chain_db)
    assert (result.ok, result.broken_id, result.code) == (False, entries[3].id, "link")


def test_deleting_the_first_row_is_caught(chain_db: Session) -> None:
    entries = append(chain_db, 3)
    sql(chain_db, "DELETE FROM audit_log WHERE id = :id", id=entries[0].id)
    result = audit.verify(chain_db)
    assert (result.ok, result.broken_id, result.code) == (False, entries[1].id, "link")


def test_deleting_the_last_rows_is_caught_by_the_head(chain_db: Session) -> None:
    entries = append(chain_db, 5)
    sql(chain_db, "DELETE FROM audit_log WHERE id >= :id", id=entries[3].id)
    result = audit.verify(chain_db)
    assert (result.ok, result.code) == (False, "tail")
    assert result.broken_id == entries[-1].id
    assert f"#{entries[2].id}" in (result.reason or "")


def test_deleting_every_row_is_caught_by_the_head(chain_db: Session) -> None:
    append(chain_db, 3)
    sql(chain_db, "DELETE FROM audit_log")
    assert audit.verify(chain_db).code == "tail"


def test_an_edit_that_recomputes_its_own_hash_is_caught_at_the_next_row(chain_db: Session) -> None:
    entries = append(chain_db, 4)
    victim = chain_db.get(AuditEntry, entries[1].id)
    assert victim is not None
    victim.detail = json.dumps({"i": 2, "名称": "伪造"}, ensure_ascii=False)
    forged_hash = audit.entry_hash(victim)
    chain_db.expunge(victim)
    sql(chain_db, "UPDATE audit_log SET detail = :d, hash = :h WHERE id = :id",
        d=victim.detail, h=forged_hash, id=entries[1].id)
    result = audit.verify(chain_db)
    assert (result.ok, result.broken_id, result.code) == (False, entries[2].id, "link")


def test_recomputing_the_last_rows_hash_is_caught_by_the_head(chain_db: Session) -> None:
    entries = append(chain_db, 3)
    last = chain_db.get(AuditEntry, entries[-1].id)
    assert last is not None
    last.action = "test.forged"
    forged_hash = audit.entry_hash(last)
    chain_db.expunge(last)
    sql(chain_db, "UPDATE audit_log SET action = 'test.forged', hash = :h WHERE id = :id",
        h=forged_hash, id=entries[-1].id)
    result = audit.verify(chain_db)
    assert (result.ok, result.code) == (False, "tail")


def test_a_row_inserted_after_the_tail_is_caught(chain_db: Session) -> None:
    entries = append(chain_db, 2)
    last = entries[-1]
    sql(chain_db, "INSERT INTO audit_log (id, at, actor_id, actor_name, action, object_type, object_id, "
        "payload_hash, detail, algorithm, prev_hash, hash) VALUES (:id, :at, NULL, 'x', 'test.forged', 't', "
        "NULL, :z, '{}', 'sha256', :prev, :h)",
        id=last.id + 1, at=last.at, z="0" * 64, prev=last.hash, h="e" * 64)
    result = audit.verify(chain_db)
    assert (result.ok, result.broken_id, result.code) == (False, last.id + 1, "after_tail")


def test_a_rewritten_chain_is_caught_by_an_anchor_kept_elsewhere(chain_db: Session) -> None:
    entries = append(chain_db, 3)
    anchor = {entries[1].id: entries[1].hash}
    assert audit.verify(chain_db, anchors=anchor).ok
    sql(chain_db, "DELETE FROM audit_log")
    sql(chain_db, "DELETE FROM audit_head")
    result = audit.verify(chain_db, anchors=anchor)
    assert not result.ok  # the anchored entry is gone, even though what is left is self-consistent


def test_verify_streams_in_batches(chain_db: Session) -> None:
    entries = append(chain_db, 23)
    assert audit.verify(chain_db, batch=5).checked == 23
    sql(chain_db, "UPDATE audit_log SET detail = '{}' WHERE id = :id", id=entries[17].id)
    assert audit.verify(chain_db, batch=5).broken_id == entries[17].id


def test_sm3_chain_records_its_algorithm_and_survives_a_change_of_setting(
    chain_db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIANGUAN_AUDIT_HASH", "sm3")
    reset_settings()
    sm3_entries = append(chain_db, 2)
    monkeypatch.setenv("JIANGUAN_AUDIT_HASH", "sha256")
    reset_settings()
    sha_entries = append(chain_db, 2)
    assert [e.algorithm for e in sm3_entries + sha_entries] == ["sm3", "sm3", "sha256", "sha256"]
    assert sm3_entries[0].hash != sha_entries[0].hash
    assert audit.verify(chain_db).ok
    sql(chain_db, "UPDATE audit_log SET detail = '{}' WHERE id = :id", id=sm3_entries[1].id)
    assert audit.verify(chain_db).broken_id == sm3_entries[1].id


def test_sm3_matches_the_standard_test_vector() -> None:
    # GB/T 32905-2016 Appendix A.1: SM3("abc").
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert audit.digest(b"abc", "sm3") == expected
    assert sm3_digest_gmssl(b"abc").hex() == expected


@given(st.binary(max_size=300))
def test_openssl_and_gmssl_sm3_agree(data: bytes) -> None:
    assert sm3_digest(data) == sm3_digest_gmssl(data)


def test_exports_and_restricted_reads_are_recorded(chain_db: Session) -> None:
    export = audit.record_export(chain_db, actor=None, what="entities", filters={"region": "330106"},
                                 row_count=120, fmt="xlsx")
    read = audit.record_restricted_read(chain_db, actor=None, object_type="complaint", object_id=42,
                                        fields=["phone", "id_number"], purpose="回访投诉人")
    chain_db.commit()
    assert (export.action, export.object_type) == ("data.export", "entities")
    assert json.loads(export.detail) == {"what": "entities", "filters": {"region": "330106"}, "rows": 120,
                                         "format": "xlsx"}
    assert (read.action, read.object_id) == ("data.restricted_read", "42")
    assert json.loads(read.detail) == {"fields": ["id_number", "phone"], "purpose": "回访投诉人"}
    assert audit.verify(chain_db).ok


def test_log_filters_by_object_newest_first(chain_db: Session) -> None:
    append(chain_db, 3)
    audit.record(chain_db, actor=None, action="other.write", object_type="other", object_id=2)
    chain_db.commit()
    rows, total = audit.list_entries(chain_db, object_type="thing", limit=2)
    assert total == 3 and [r.object_id for r in rows] == ["3", "2"]
    rows, total = audit.list_entries(chain_db, object_type="thing", object_id=2)
    assert total == 1 and rows[0].action == "test.write"


# --- concurrency: the head row serialises appends, so the chain never forks ---------------------------


def test_an_append_waits_for_an_open_transaction_that_appended_first(fresh_db_url: str) -> None:
    make = session_factory()
    first = make()
    a = audit.record(first, actor=None, action="test.first", object_type="thing", object_id=1)
    done: dict[str, object] = {}

    def second_writer() -> None:
        with make() as second:
            b = audit.record(second, actor=None, action="test.second", object_type="thing", object_id=2)
            second.commit()
            done["prev_hash"] = b.prev_hash

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.5)
    assert "prev_hash" not in done  # blocked on the audit_head lock
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert done["prev_hash"] == a.hash
    with make() as db:
        assert audit.verify(db).ok


def test_concurrent_committing_writers_never_fork_the_chain(fresh_db_url: str) -> None:
    writers, each = 4, 15
    make = session_factory()
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with make() as db:
                    audit.record(db, actor=None, action="test.concurrent", object_type="writer",
                                 object_id=n, payload={"i": i})
                    time.sleep(0.001)  # hold the lock a moment so the others pile up on it
                    db.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with make() as db:
        result = audit.verify(db)
        assert result.ok and result.checked == writers * each
        prevs = db.scalars(select(AuditEntry.prev_hash)).all()
        assert len(set(prevs)) == len(prevs)  # no two entries chained onto the same one
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == writers * each


def test_a_rolled_back_append_leaves_the_chain_intact(chain_db: Session) -> None:
    append(chain_db, 2)
    audit.record(chain_db, actor=None, action="test.abandoned", object_type="thing")
    chain_db.rollback()
    append(chain_db, 1)
    result = audit.verify(chain_db)
    assert result.ok and result.checked == 3
