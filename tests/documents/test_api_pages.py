"""Documents over HTTP, on the pages and from the command line: download (PDF signed, Word), the
register, settings with seal upload, the public check of a PDF, the entity's own documents."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from jianguan.auth import service as auth
from jianguan.db import session_scope
from jianguan.documents import art
from jianguan.documents.models import Document
from tests.auth.conftest import PASSWORD, token_for
from tests.documents.test_documents import through_feedback
from tests.inspections.conftest import make_world
from tests.inspections.test_visits import TODAY, begun, member
from tests.officers.test_pages import csrf_of, sign_in


@pytest.fixture
def issued(fresh_db_url: str) -> Iterator[tuple[TestClient, int, str]]:
    """An inspection through feedback (4 documents); ``shop`` speaks for its entity. Yields the client, the
    inspection id and the username of its first officer."""
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db)
        record = begun(db, world)[0]
        through_feedback(db, world, record)
        officer = member(db, world, record, 0).username
        auth.create_user(db, username="shop", display_name="店主", password=PASSWORD, roles=["entity_user"],
                         entity_id=record.entity_id, actor=None)
        auth.create_user(db, username="xh_admin", display_name="管理员", password=PASSWORD, roles=["agency_admin"],
                         agency_id=world.xihu.id, actor=None)
        inspection_id = record.id
    with TestClient(create_app()) as client:
        yield client, inspection_id, officer


def test_documents_over_the_api(issued: tuple[TestClient, int, str]) -> None:
    client, inspection_id, officer = issued
    me = token_for(officer)
    listed = client.get(f"/api/v1/documents?subject_type=inspection&subject_id={inspection_id}", headers=me).json()
    assert [d["title"] for d in listed["items"]] == ["检查通知书", "现场检查记录", "反馈意见书", "责令整改通知书"]
    order = listed["items"][-1]
    pdf = client.get(order["links"]["pdf"], headers=me)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in pdf.headers["content-disposition"] and pdf.content.startswith(b"%PDF-")
    docx = client.get(order["links"]["docx"], headers=me)
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    assert client.get(f"/api/v1/documents/{order['id']}/odt", headers=me).status_code == 422
    assert client.get(order["links"]["pdf"], headers=token_for("outsider")).status_code == 404
    assert client.get(order["links"]["pdf"], headers=token_for("shop")).status_code == 200  # sent to the party
    checked = client.post("/api/v1/documents/verify", files={"file": ("x.pdf", pdf.content, "application/pdf")},
                          headers=me).json()
    assert checked["genuine"] and checked["number"] == order["number"]
    detail = client.get(f"/api/v1/documents/{order['id']}", headers=me).json()
    assert detail["pdf_sha256"] == checked["sha256"] and detail["context"]["findings"]
    void = client.post(f"/api/v1/documents/{order['id']}/void", json={"reason": ""}, headers=token_for("leader"))
    assert void.status_code == 422 and "reason" in void.text


def test_the_pages(issued: tuple[TestClient, int, str]) -> None:
    client, inspection_id, officer = issued
    sign_in(client, officer)
    visit = client.get(f"/inspections/visits/{inspection_id}")
    assert "责令整改通知书" in visit.text and "/api/v1/documents/" in visit.text
    register = client.get("/documents?kind=rectification_order")
    assert register.status_code == 200 and "西湖市监责改〔2026〕1号" in register.text
    assert "西湖市监检通" not in register.text
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    csrf = sign_in(client, "xh_admin")
    page = client.get("/documents/settings")
    assert "西湖市监" in page.text
    seal = art.seal("杭州市西湖区市场监督管理局")
    bad = client.post("/documents/settings/profile", data={"csrf_token": csrf, "agency_id": _xihu_id(),
                                                           "abbreviation": "杭西市监", "version": ""},
                      files={"seal": ("seal.jpg", b"\xff\xd8\xffnot png", "image/jpeg")}, follow_redirects=True)
    assert "PNG" in bad.text  # named, and nothing saved
    assert "杭西市监" not in client.get("/documents/settings").text
    saved = client.post("/documents/settings/profile", data={"csrf_token": csrf, "agency_id": _xihu_id(),
                                                             "abbreviation": "杭西市监", "version": ""},
                        files={"seal": ("seal.png", seal, "image/png")}, follow_redirects=True)
    assert saved.status_code == 200 and "杭西市监检通〔2026〕1号" in saved.text
    assert client.get("/documents/settings/seal.png").content == seal
    template = client.get("/documents/templates/inspection_notice.docx")
    assert template.status_code == 200 and template.content.startswith(b"PK")


def test_the_public_check_of_a_pdf(issued: tuple[TestClient, int, str]) -> None:
    client, inspection_id, officer = issued
    pdf = client.get(client.get(f"/api/v1/documents?subject_type=inspection&subject_id={inspection_id}",
                                headers=token_for(officer)).json()["items"][0]["links"]["pdf"],
                     headers=token_for(officer)).content
    good = client.post("/documents/verify", files={"file": ("通知.pdf", pdf, "application/pdf")})
    assert good.status_code == 200 and "西湖市监检通〔2026〕1号" in good.text and "verdict good" in good.text
    bad = client.post("/documents/verify", files={"file": ("通知.pdf", pdf + b"%%EOF\n% x", "application/pdf")})
    assert "verdict bad" in bad.text


def test_the_entity_sees_the_documents_sent_to_it(issued: tuple[TestClient, int, str]) -> None:
    client, _, _ = issued
    sign_in(client, "shop")
    page = client.get("/inspections/rectification")
    assert "责令整改通知书" in page.text and "反馈意见书" in page.text


def _xihu_id() -> str:
    from jianguan.officers.models import Agency

    with session_scope() as db:
        return str(db.scalars(select(Agency.id).where(Agency.code == "330106-SJ")).one())


def test_render_and_verify_from_the_command_line(issued: tuple[TestClient, int, str], tmp_path: Path) -> None:
    from jianguan.cli import app

    with session_scope() as db:
        ids = [str(i) for i in db.scalars(select(Document.id).order_by(Document.id))]
    rendered = CliRunner().invoke(app, ["document", "render", "--pending", "--out", str(tmp_path), "--json"])
    assert rendered.exit_code == 0, rendered.output
    assert [str(r["id"]) for r in json.loads(rendered.stdout)] == ids
    pdfs = sorted(tmp_path.glob("*.pdf"))
    assert len(pdfs) == 4
    ok = CliRunner().invoke(app, ["document", "verify", str(pdfs[0]), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["genuine"]
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(pdfs[0].read_bytes() + b"\n% appended\n")
    assert CliRunner().invoke(app, ["document", "verify", str(changed)]).exit_code == 1


def test_the_commands_work_as_a_process_of_their_own(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "JIANGUAN_HOME": str(tmp_path)}
    env.pop("JIANGUAN_DATABASE_URL", None)

    def jianguan(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "jianguan.cli", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    assert jianguan("init", "--json").returncode == 0
    assert (tmp_path / "pki" / "ca.pem").exists() and oct((tmp_path / "pki" / "ca.key").stat().st_mode)[-3:] == "600"
    exported = jianguan("document", "template", "rectification_order", "--export", str(tmp_path / "tpl"))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert {p.name for p in (tmp_path / "tpl").iterdir()} == {"rectification_order.docx", "rectification_order.html",
                                                              "base.html"}
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\n%%EOF\n")
    checked = jianguan("document", "verify", str(junk), "--json")
    assert checked.returncode == 1 and json.loads(checked.stdout)["signed"] is False




def test_officers_issuing_at_the_same_time_never_get_the_same_number(fresh_db_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from jianguan.documents import service
    from jianguan.officers.models import Agency

    with session_scope() as db:
        make_world(db, n_entities=2, officers=2)
        xihu = db.scalars(select(Agency).where(Agency.code == "330106-SJ")).one()
        agency_id, region = xihu.id, xihu.region_code

    def issue_ten(_: int) -> list[int]:
        seqs = []
        for _n in range(10):
            with session_scope() as db:
                seqs.append(service.issue(db, kind="inspection_notice", agency_id=agency_id, subject_type="test",
                                          subject_id=1, entity_id=None, region_code=region, context={}, actor=None,
                                          on=TODAY).seq)
        return seqs

    with ThreadPoolExecutor(max_workers=3) as pool:
        got = [s for seqs in pool.map(issue_ten, range(3)) for s in seqs]
    assert sorted(got) == list(range(1, 31))
