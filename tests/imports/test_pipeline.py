"""The import pipeline: problems found with row/field/code, all or nothing, valid rows, re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.entities.models import Entity
from jianguan.entities.uscc import make_uscc
from jianguan.imports import service
from jianguan.reference import service as ref
from tests.auth.conftest import make_two_districts

HEADER = "uscc,name,kind,status,region_code,industry_code,established_on,legal_rep_id_number\n"


def csv(tmp_path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / "e.csv"
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode(encoding))
    return path


def good(i: int) -> str:
    code = make_uscc("9", "1", "330106", f"MA2H{i:04d}")
    return f"{code},西湖公司{i},企业,存续,330106,6210,2020-05-06,110101199003078515"


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Entity)) or 0


def test_an_error_row_writes_nothing_and_is_reported_with_its_file_row(db: Session, tmp_path: Path) -> None:
    w = make_two_districts(db)
    ref.load_all(db)
    bad = good(9).replace("2020-05-06", "2020-02-30")
    batch, out = service.import_file(db, kind="entities", path=csv(tmp_path, [good(1), bad]), actor=w.a_officer)
    assert batch.status == "rejected" and count(db) == 0
    assert [(p["row"], p["field"], p["code"]) for p in out.problem_list()] == [(3, "established_on", "date")]


def test_valid_rows_mode_writes_the_valid_rows_and_reimport_updates(db: Session, tmp_path: Path) -> None:
    w = make_two_districts(db)
    ref.load_all(db)
    rows = [good(1), good(2), good(3).replace("330106,6210", "330106,ZZZZ")]
    batch, out = service.import_file(db, kind="entities", path=csv(tmp_path, rows, "gb18030"), actor=w.a_officer,
                                     valid_rows=True)
    assert (batch.status, out.created, count(db)) == ("committed", 2, 2)
    assert Path(batch.rejected_path).read_text().count("\n") == 2
    _, again = service.import_file(db, kind="entities", path=csv(tmp_path, rows[:2]), actor=w.a_officer)
    assert (again.created, count(db)) == (0, 2)


def fingerprint(db: Session) -> dict[str, object]:
    """What an import leaves in the registry, without ids, timestamps or (random) ciphertexts."""
    from jianguan.entities.models import CreditHistory, EntityLicence, EntityTag, RiskHistory

    columns = (Entity.uscc, Entity.name, Entity.kind, Entity.status, Entity.region_code, Entity.industry_code,
               Entity.registered_capital, Entity.established_on, Entity.legal_rep_id_number_hash,
               Entity.contact_phone_hash, Entity.credit_class, Entity.risk_level, Entity.under_supervision_since,
               Entity.uscc_warnings, Entity.agency_id, Entity.version)
    entities = sorted(tuple(r) for r in db.execute(select(*columns)))
    legal = sorted(e.legal_rep_id_number or "" for e in db.scalars(select(Entity)))
    histories = [sorted(db.execute(select(Entity.uscc, t.value, t.valid_from, t.valid_to).join(
        Entity, Entity.id == t.entity_id))) for t in (CreditHistory, RiskHistory)]
    licences = sorted(db.execute(select(Entity.uscc, EntityLicence.licence_type, EntityLicence.number,
                                        EntityLicence.valid_until).join(Entity)))
    tags = sorted(db.execute(select(Entity.uscc, EntityTag.tag).join(Entity)))
    return {"entities": entities, "legal": legal, "histories": histories, "licences": licences, "tags": tags}


def test_a_large_first_load_rebuilds_indexes_and_writes_what_a_small_one_writes(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jianguan.core.bulkload import _dropped
    from jianguan.entities import importing
    from jianguan.synth import province as synth

    w = make_two_districts(db)
    ref.load_all(db)
    frame = synth.entities(synth.load_province("330000"), n=400, seed=11)
    path = tmp_path / "province.csv"
    frame.drop([c for c in frame.columns if c == "agency_code"]).write_csv(path)
    indexes = sorted(_dropped(db, importing.BULK_TABLES).indexes)
    results = []
    for threshold in (1, 10**9):  # bulk load, then the ordinary way on the same (rolled back) registry
        monkeypatch.setattr(importing, "BULK_MIN_ROWS", threshold)
        assert bool(importing.bulk_tables(db, 400)) is (threshold == 1)
        savepoint = db.begin_nested()
        batch, out = service.import_file(db, kind="entities", path=path, actor=w.admin)
        assert (batch.status, out.created, out.error_rows) == ("committed", 400, 0), out.problem_list(5)
        assert sorted(_dropped(db, importing.BULK_TABLES).indexes) == indexes
        results.append(fingerprint(db))
        savepoint.rollback()
    bulk, ordinary = results
    assert bulk == ordinary
    assert len(bulk["licences"]) > 50 and len(bulk["tags"]) > 10 and len(bulk["histories"][0]) == 400


def test_two_rows_naming_one_licence_are_refused_across_slices(db: Session, tmp_path: Path) -> None:
    from jianguan.imports import pipeline

    w = make_two_districts(db)
    ref.load_all(db)
    path = tmp_path / "licences.csv"
    lines = [f"{good(i)},食品经营许可证,JY{i % 3}" for i in range(1, 6)]  # JY1, JY2, JY0, JY1, JY2
    path.write_text(HEADER.strip() + ",licence_type,licence_number\n" + "\n".join(lines) + "\n")
    out = pipeline.run(db, path, kind="entities", actor=w.a_officer, write=False, batch_rows=2)
    assert [(p["row"], p["field"], p["code"]) for p in out.problem_list()] == [
        (5, "licence_number", "duplicate.licence"), (6, "licence_number", "duplicate.licence")]


def test_a_new_batch_never_inherits_the_files_of_a_rolled_back_one(db: Session, tmp_path: Path) -> None:
    w = make_two_districts(db)
    ref.load_all(db)
    savepoint = db.begin_nested()
    gone = service.create(db, kind="entities", file=csv(tmp_path, [good(1)]), file_name="e.csv", actor=w.a_officer)
    service.progress_file_queued(gone, "confirm")  # as if a worker had picked it up, then everything rolled back
    stale = service.folder(gone)
    savepoint.rollback()
    batch, out = service.import_file(db, kind="entities", path=csv(tmp_path, [good(2)]), actor=w.a_officer)
    assert (batch.status, out.created) == ("committed", 1)
    if service.folder(batch) == stale:  # SQLite hands the id out again
        assert service.progress_of(batch).get("state") == "done"


def test_a_natural_person_twice_in_a_file_is_refused_like_a_uscc_twice(db: Session, tmp_path: Path) -> None:
    from jianguan.imports import pipeline

    w = make_two_districts(db)
    ref.load_all(db)
    path = tmp_path / "people.csv"
    person = ",张三,特定自然人,存续,330106,6210,2020-05-06,{}"
    rows = [person.format("11010119900307109x"), good(1).replace(",110101199003078515", ","),
            person.format("110101199003078515"), person.format("11010119900307109X")]  # once in lower case
    path.write_text("uscc,name,kind,status,region_code,industry_code,established_on,id_number\n"
                    + "\n".join(rows) + "\n")
    out = pipeline.run(db, path, kind="entities", actor=w.a_officer, write=False, batch_rows=2)
    assert [(p["row"], p["field"], p["code"]) for p in out.problem_list() if p["severity"] == "error"] == [
        (5, "id_number", "duplicate.file")]


def test_the_encoding_is_decided_on_the_head_and_a_later_change_is_refused(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jianguan.core.errors import Invalid
    from jianguan.imports import pipeline

    w = make_two_districts(db)
    ref.load_all(db)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + good(1) + "\n").encode())
    assert pipeline.detect_encoding(bom) == "utf-8-sig"
    _, out = service.import_file(db, kind="entities", path=bom, actor=w.a_officer)
    assert out.created == 1
    monkeypatch.setattr(pipeline, "SAMPLE_BYTES", len(HEADER) + 10)  # the head is plain UTF-8 …
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(HEADER.encode() + "\n".join(good(i) for i in range(2, 40)).encode("gb18030") + b"\n")
    assert pipeline.detect_encoding(mixed) == "utf-8"
    with pytest.raises(Invalid) as error:  # … the rest is not: refused, by field, nothing written
        service.import_file(db, kind="entities", path=mixed, actor=w.a_officer)
    assert error.value.field == "file" and "UTF-8" in error.value.message
    assert count(db) == 1
