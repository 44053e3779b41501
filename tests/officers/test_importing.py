"""Importing officers and their credentials through the pipeline: upsert by ID number, problems by row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from jianguan.imports import pipeline
from jianguan.officers.models import Credential, CredentialEvent, Officer
from jianguan.reference import service as ref
from tests.auth.conftest import TwoDistricts, make_two_districts

HEADER = ("agency_code,name,id_number,phone,domains,credential_number,credential_domains,credential_issued_on,"
          "credential_expires_on,credential_status\n")
ROWS = [
    "330106-SJ,王建国,330106198503127713,13857100001,market;food,33010620210001,market;food,2021-03-01,2027-02-28,有效",
    "330106-SJ,李芳,330106199107082423,13857100002,market,33010620200002,market,2020-06-15,2026-06-14,valid",
    "330106-SJ,陈志强,330106198812305536,,market,33010620220003,market,2022-09-01,2028-08-31,暂扣",
    "330106-SJ,吴磊,330108198607217919,,market,33010820190002,market,2019-05-20,2025-05-19,revoked",
]


@pytest.fixture
def world(db: Session) -> TwoDistricts:
    ref.load_all(db)
    return make_two_districts(db)


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "officers.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_officers_and_credentials_are_created_then_a_reimport_updates(
        db: Session, world: TwoDistricts, tmp_path: Path) -> None:
    out = pipeline.run(db, write(tmp_path, ROWS), kind="officers", actor=world.a_admin)
    assert out.error_rows == 0 and (out.created, out.updated) == (4, 0) and out.written
    statuses = dict(db.execute(select(Credential.number, Credential.status)).all())
    assert statuses == {"33010620210001": "valid", "33010620200002": "valid", "33010620220003": "suspended",
                        "33010820190002": "revoked"}
    changed = [ROWS[0].replace("王建国", "王建军"), ROWS[1].replace(",valid", ",暂扣"), *ROWS[2:]]
    again = pipeline.run(db, write(tmp_path, changed), kind="officers", actor=world.a_admin)
    assert (again.created, again.updated) == (0, 1)
    assert count(db, Officer) == 4 and count(db, Credential) == 4
    assert db.scalar(select(Credential.status).where(Credential.number == "33010620200002")) == "suspended"
    reason = db.scalar(select(CredentialEvent.reason).where(CredentialEvent.kind == "suspend"))
    assert reason is not None and "批量导入" in reason
    raw = db.execute(text("SELECT id_number FROM officers")).scalars().all()
    assert all(v.startswith("jg1$") for v in raw)


def test_bad_rows_are_reported_by_row_and_field_and_nothing_is_written(
        db: Session, world: TwoDistricts, tmp_path: Path) -> None:
    bad = [
        ROWS[0].replace("330106-SJ", "NOPE-SJ"),  # row 2: unknown agency
        ROWS[1].replace("330106199107082423", "330106199107082420"),  # row 3: ID check digit
        "330106-SJ,赵六,110101199003078515,,market,33010620230009,market,,2029-01-01,valid",  # row 4: no issue date
        ROWS[2].replace("2028-08-31", "2021-08-31"),  # row 5: expires before issued
        "330106-SJ,钱七,110101198001010013,,market,33010620210001,market,2021-03-01,2027-02-28,valid",  # row 6: dup
        "330106-SJ,孙八,110101198001010030,,market,浙33010620210002,market,2021-03-01,2027-02-28,valid",  # row 7
    ]
    out = pipeline.run(db, write(tmp_path, bad), kind="officers", actor=world.a_admin)
    found = {(p["row"], p["field"], p["code"]) for p in out.problem_list()}
    assert {(2, "agency_code", "agency"), (3, "id_number", "id_number"), (4, "credential_number", "credential.dates"),
            (5, "credential_expires_on", "credential.order"),
            (6, "credential_number", "credential.duplicate"), (7, "credential_number", "credential.number")} <= found
    assert out.error_rows == 6 and not out.written and count(db, Officer) == 0


def test_an_admin_of_another_agency_gets_scope_problems(db: Session, world: TwoDistricts, tmp_path: Path) -> None:
    out = pipeline.run(db, write(tmp_path, ROWS[:2]), kind="officers", actor=world.b_admin)
    assert {(p["row"], p["code"]) for p in out.problem_list()} == {(2, "scope"), (3, "scope")}
    assert count(db, Officer) == 0


def test_a_credential_domain_beyond_the_officers_is_a_warning(db: Session, world: TwoDistricts,
                                                               tmp_path: Path) -> None:
    row = ROWS[1].replace("market,33010620200002,market,", "market,33010620200002,market;food,")
    out = pipeline.run(db, write(tmp_path, [row]), kind="officers", actor=world.admin)
    assert [(p["code"], p["severity"]) for p in out.problem_list()] == [("credential.domains", "warning")]
    assert out.written and count(db, Officer) == 1
