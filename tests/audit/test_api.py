"""Evidence upload/download and the audit endpoints through the API, as a client sees them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.audit.models import AuditEntry, EvidenceFile
from jianguan.auth import service
from jianguan.config import reset_settings
from jianguan.db import session_scope
from jianguan.officers import service as agencies
from tests.audit.test_evidence import EXE, JPEG


@dataclass
class People:
    admin: dict[str, str]
    officer: dict[str, str]
    other_district: dict[str, str]


@pytest.fixture
def client(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("JIANGUAN_HOME", str(tmp_path))
    monkeypatch.setenv("JIANGUAN_EVIDENCE_MAX_BYTES", "100000")
    reset_settings()
    from jianguan.app import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def people(client: TestClient) -> People:
    headers = {}
    with session_scope() as db:
        a = agencies.create_agency(db, code="330106-SJ", name="西湖区市场监督管理局", region_code="330106",
                                   actor=None)
        b = agencies.create_agency(db, code="330108-SJ", name="滨江区市场监督管理局", region_code="330108",
                                   actor=None)
        accounts = (("root", ["system_admin"], a, "all"), ("zhao", ["officer"], a, "agency"),
                    ("qian", ["officer"], b, "agency"))
        for name, roles, agency, scope in accounts:
            user = service.create_user(db, username=name, display_name=name, password="Passw0rd-2026",
                                       roles=roles, agency_id=agency.id, data_scope=scope, actor=None)
            token, _ = service.create_api_token(db, user=user, name="t", actor=user)
            headers[name] = {"Authorization": f"Bearer {token}"}
    return People(admin=headers["root"], officer=headers["zhao"], other_district=headers["qian"])


def upload(client: TestClient, headers: dict[str, str], data: bytes, *, name: str = "现场照片.jpg",
           content_type: str = "image/jpeg", **form: str) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/v1/evidence", headers=headers, files={"file": (name, data, content_type)},
                           data=form)
    return {"status": response.status_code, **response.json()}


def test_upload_then_download_the_same_bytes(client: TestClient, people: People, tmp_path: Path) -> None:
    body = upload(client, people.officer, JPEG, taken_at="2026-03-12T10:30:00+08:00", latitude="30.2741",
                  longitude="120.1551", note="后厨操作间")
    sha = hashlib.sha256(JPEG).hexdigest()
    assert body["status"] == 201, body
    assert (body["sha256"], body["size"], body["filename"]) == (sha, len(JPEG), "现场照片.jpg")
    assert body["taken_at"].startswith("2026-03-12T02:30:00")
    assert (tmp_path / "evidence" / sha[:2] / sha[2:4] / sha).read_bytes() == JPEG
    response = client.get(f"/api/v1/evidence/{sha}", headers=people.officer)
    assert response.status_code == 200
    assert response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    assert "attachment" in response.headers["content-disposition"]
    assert "%E7%8E%B0%E5%9C%BA" in response.headers["content-disposition"]  # 现场, RFC 5987
    assert response.headers["x-content-type-options"] == "nosniff"
    with session_scope() as db:
        actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "evidence")
                             .order_by(AuditEntry.id)).all()
        assert actions == ["evidence.store", "evidence.read"]


def test_evidence_of_another_district_is_not_found(client: TestClient, people: People) -> None:
    sha = upload(client, people.officer, JPEG)["sha256"]
    assert client.get(f"/api/v1/evidence/{sha}", headers=people.other_district).status_code == 404
    assert client.get(f"/api/v1/evidence/{sha}", headers=people.admin).status_code == 200


def test_an_exe_renamed_jpg_is_refused_naming_the_field(client: TestClient, people: People) -> None:
    body = upload(client, people.officer, EXE, name="photo.jpg")
    assert body["status"] == 422
    assert body["error"]["details"][0]["field"] == "file"
    assert "image/jpeg" in body["error"]["message"]
    with session_scope() as db:
        assert db.scalar(select(EvidenceFile.id)) is None


def test_a_type_not_allowed_is_refused_naming_it(client: TestClient, people: People) -> None:
    body = upload(client, people.officer, EXE, name="setup.exe", content_type="application/x-msdownload")
    assert body["status"] == 422
    assert body["error"]["details"][0]["field"] == "file"
    assert "application/x-msdownload" in body["error"]["message"]


def test_a_file_over_the_limit_is_refused_naming_the_limit(client: TestClient, people: People) -> None:
    body = upload(client, people.officer, b"x" * 100_001, name="notes.txt", content_type="text/plain")
    assert body["status"] == 422
    assert body["error"]["details"][0]["field"] == "file"
    assert "97.7 KB" in body["error"]["message"]
    english = client.post("/api/v1/evidence?lang=en", headers=people.officer,
                          files={"file": ("n.txt", b"x" * 100_001, "text/plain")}).json()
    assert english["error"]["message"] == "The file is larger than the limit of 97.7 KB."


def test_upload_needs_a_signed_in_user(client: TestClient, people: People) -> None:
    response = client.post("/api/v1/evidence", files={"file": ("a.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 401


def test_only_a_system_admin_verifies_and_reads_the_audit_log(client: TestClient, people: People) -> None:
    upload(client, people.officer, JPEG)
    assert client.get("/api/v1/audit/verify", headers=people.officer).status_code == 403
    assert client.get("/api/v1/audit/entries", headers=people.officer).status_code == 403
    verified = client.get("/api/v1/audit/verify", headers=people.admin).json()
    assert verified["ok"] is True and verified["checked"] >= 7  # agencies, users, tokens, the upload
    page = client.get("/api/v1/audit/entries", headers=people.admin, params={"limit": 2}).json()
    assert page["limit"] == 2 and len(page["items"]) == 2 and page["total"] == verified["checked"]
    assert page["items"][0]["id"] > page["items"][1]["id"]  # newest first
    stored = client.get("/api/v1/audit/entries", headers=people.admin,
                        params={"object_type": "evidence", "action": "evidence.store"}).json()
    assert stored["total"] == 1
    assert stored["items"][0]["detail"]["sha256"] == hashlib.sha256(JPEG).hexdigest()


def test_verify_endpoint_reports_a_broken_chain(client: TestClient, people: People) -> None:
    from sqlalchemy import text

    with session_scope() as db:
        victim = db.scalars(select(AuditEntry.id).order_by(AuditEntry.id).offset(2).limit(1)).one()
        db.execute(text("UPDATE audit_log SET actor_name = 'ghost' WHERE id = :id"), {"id": victim})
    result = client.get("/api/v1/audit/verify", headers=people.admin).json()
    assert (result["ok"], result["broken_id"], result["code"]) == (False, victim, "content")
