"""``jianguan audit verify|log|verify-evidence`` as an operator runs them."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jianguan.cli import app
from tests.audit.conftest import append

runner = CliRunner()


def test_verify_prints_ok_with_the_count(chain_db: Session) -> None:
    append(chain_db, 3)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK (3 entries)" in result.stdout


def test_verify_prints_the_first_broken_row_and_exits_1(chain_db: Session) -> None:
    entries = append(chain_db, 4)
    chain_db.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": entries[2].id})
    chain_db.commit()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry #{entries[2].id}" in result.output
    as_json = runner.invoke(app, ["audit", "verify", "--json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert (data["ok"], data["broken_id"], data["code"]) == (False, entries[2].id, "content")


def test_verify_checks_anchors(chain_db: Session) -> None:
    entries = append(chain_db, 2)
    good = runner.invoke(app, ["audit", "verify", "--anchor", f"{entries[0].id}:{entries[0].hash}"])
    assert good.exit_code == 0, good.output
    bad = runner.invoke(app, ["audit", "verify", "--anchor", f"{entries[0].id}:{'a' * 64}"])
    assert bad.exit_code == 1


def test_log_filters_and_prints_json(chain_db: Session) -> None:
    append(chain_db, 3)
    result = runner.invoke(app, ["audit", "log", "--object-type", "thing", "--object-id", "2", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["action"], r["object_id"], r["detail"]["名称"]) for r in rows] == [
        ("test.write", "2", "第2件")]
    table = runner.invoke(app, ["audit", "log", "--limit", "2"])
    assert table.exit_code == 0 and "test.write" in table.stdout


def test_verify_evidence_with_nothing_stored(chain_db: Session) -> None:
    result = runner.invoke(app, ["audit", "verify-evidence", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "checked": 0, "damaged": []}
