"""The import pipeline: problems found with row/field/code, all or nothing, valid rows, re-import."""

from __future__ import annotations

from pathlib import Path

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
