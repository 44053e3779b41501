"""查证 (public page and API), 亮证, the officer pages and the CLI, as people and machines use them."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jianguan.cli import app as cli_app
from jianguan.db import session_scope
from jianguan.officers import credentials, roster
from tests.auth.conftest import TwoDistricts, token_for
from tests.officers.test_pages import sign_in

runner = CliRunner()


@dataclass
class Cards:
    officer_id: int
    other_officer_id: int
    valid: str = "33010620260001"
    expired: str = "33010620200002"
    suspended: str = "33010620220003"
    revoked: str = "33010820190002"


@pytest.fixture
def cards(districts: TwoDistricts) -> Cards:
    with session_scope() as db:
        a = roster.create_officer(db, agency_id=districts.district_a.id, name="王建国", id_number="330106198503127713",
                                  phone="13857100001", domains=["market", "food"], user_id=districts.a_officer.id,
                                  actor=None)
        b = roster.create_officer(db, agency_id=districts.district_b.id, name="吴磊", id_number="330108198607217919",
                                  domains=["market"], actor=None)
        c = roster.create_officer(db, agency_id=districts.district_a.id, name="陈志强", domains=["market"], actor=None)

        def issue(officer_id: int, number: str, issued: str, expires: str) -> credentials.Credential:
            return credentials.issue_credential(db, officer_id=officer_id, number=number, domains=["market", "food"],
                                                issued_on=dt.date.fromisoformat(issued),
                                                expires_on=dt.date.fromisoformat(expires), actor=None)

        issue(a.id, "33010620260001", "2024-01-01", "2035-12-31")
        issue(a.id, "33010620200002", "2020-06-15", "2026-06-14")
        s = issue(c.id, "33010620220003", "2022-09-01", "2035-08-31")
        credentials.suspend_credential(db, credential_id=s.id, version=s.version, reason="调查", actor=None)
        r = issue(b.id, "33010820190002", "2019-05-20", "2035-05-19")
        credentials.revoke_credential(db, credential_id=r.id, version=r.version, reason="调离", actor=None)
        return Cards(officer_id=a.id, other_officer_id=b.id)


def test_anyone_can_verify_a_valid_credential_through_the_api_without_signing_in(
        client: TestClient, cards: Cards) -> None:
    res = client.get(f"/api/v1/credentials/{cards.valid}/verify")
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["name"], body["agency"]) == ("王建国", "西湖区市场监督管理局")
    assert (body["valid"], body["reason"]) == (True, "ok")
    assert body["domain_names"] == ["市场监管", "食品安全"]
    assert "id_number" not in body and "phone" not in body
    assert "330106198503127713" not in res.text and "13857100001" not in res.text


@pytest.mark.parametrize(("attr", "reason", "text"), [("expired", "expired", "已过期"),
                                                      ("suspended", "suspended", "暂扣"),
                                                      ("revoked", "revoked", "已吊销")])
def test_an_invalid_credential_says_why_on_the_api_and_the_page(
        client: TestClient, cards: Cards, attr: str, reason: str, text: str) -> None:
    number = getattr(cards, attr)
    body = client.get(f"/api/v1/credentials/{number}/verify").json()
    assert (body["valid"], body["reason"], body["reason_text"]) == (False, reason, text)
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200
    assert text in page.text and "今日" in page.text and "无效" in page.text


def test_an_unknown_number_is_a_plain_not_found(client: TestClient, cards: Cards) -> None:
    res = client.get("/api/v1/credentials/33010620260009/verify")
    assert res.status_code == 404
    assert res.json()["error"]["message"] == "未查到该执法证。"
    assert "33010620260001" not in res.text
    page = client.get("/verify/33010620260009")
    assert page.status_code == 404 and "未查到该执法证" in page.text and "王建国" not in page.text


def test_the_verify_form_takes_a_typed_number(client: TestClient, cards: Cards) -> None:
    form = client.get("/verify")
    assert form.status_code == 200 and 'name="number"' in form.text
    found = client.get("/verify", params={"number": f" {cards.valid.lower()} "})
    assert found.status_code == 200 and "王建国" in found.text and "有效" in found.text


def test_lookups_are_rate_limited_per_address_and_unknown_numbers_count(client: TestClient, cards: Cards) -> None:
    for i in range(credentials.VERIFY_LIMIT):
        number = cards.valid if i % 2 else f"NOPE{i:04d}"
        assert client.get(f"/api/v1/credentials/{number}/verify").status_code in (200, 404)
    refused = client.get(f"/api/v1/credentials/{cards.valid}/verify")
    assert refused.status_code == 429
    assert refused.json()["error"]["message"] == "您所在网络查询过于频繁，请一分钟后再试。"
    assert refused.headers["Retry-After"] == "60"
    page = client.get(f"/verify/{cards.valid}")
    assert page.status_code == 429 and "查询过于频繁" in page.text


def test_the_credential_page_shows_the_card_and_a_qr_code_to_the_verify_url(client: TestClient, cards: Cards) -> None:
    assert client.get(f"/officers/credential/{cards.valid}", follow_redirects=False).status_code == 303
    sign_in(client, "a_officer")
    page = client.get(f"/officers/credential/{cards.valid}")
    assert page.status_code == 200
    assert "王建国" in page.text and "<svg" in page.text and "有效" in page.text
    assert f"/verify/{cards.valid}" in page.text
    assert "330106198503127713" not in page.text
    mine = client.get("/officers/me/credential", follow_redirects=False)
    assert mine.headers["location"] == f"/officers/credential/{cards.valid}"


def test_the_officer_list_shows_credential_badges_and_is_scoped(client: TestClient, cards: Cards) -> None:
    sign_in(client, "a_admin")
    text = client.get("/officers").text
    assert "王建国" in text and "陈志强" in text and "吴磊" not in text
    assert "暂扣" in text and "已过期" in text
    assert "王建国" in client.get("/officers", params={"q": "20260001"}).text
    assert client.get(f"/officers/{cards.other_officer_id}").status_code == 404


def test_an_admin_sees_the_officer_masked_and_the_officer_sees_their_own_id(client: TestClient, cards: Cards) -> None:
    sign_in(client, "a_admin")
    page = client.get(f"/officers/{cards.officer_id}").text
    assert "330106********7713" in page and "330106198503127713" not in page
    client.cookies.clear()
    sign_in(client, "a_officer")
    assert "330106198503127713" in client.get(f"/officers/{cards.officer_id}").text


def test_an_admin_suspends_a_credential_with_a_reason_on_the_page(client: TestClient, cards: Cards) -> None:
    csrf = sign_in(client, "a_admin")
    page = client.get(f"/officers/{cards.officer_id}").text
    found = re.search(r'action="/officers/credentials/(\d+)/suspend".*?name="version" value="(\d+)"', page, re.S)
    assert found
    done = client.post(f"/officers/credentials/{found.group(1)}/suspend",
                       data={"csrf_token": csrf, "version": found.group(2), "reason": "涉嫌违规执法"},
                       follow_redirects=False)
    assert done.status_code == 303
    after = client.get(f"/officers/{cards.officer_id}").text
    assert "涉嫌违规执法" in after
    assert client.get(f"/api/v1/credentials/{cards.valid}/verify").json()["reason"] == "suspended"
    stale = client.post(f"/officers/credentials/{found.group(1)}/reinstate",
                        data={"csrf_token": csrf, "version": found.group(2), "reason": "x"})
    assert stale.status_code == 409


def test_an_officer_cannot_change_credentials_on_the_page(client: TestClient, cards: Cards) -> None:
    csrf = sign_in(client, "a_officer")
    page = client.get(f"/officers/{cards.officer_id}").text
    assert "/suspend" not in page
    res = client.post(f"/officers/{cards.officer_id}/leave",
                      data={"csrf_token": csrf, "starts_on": "2026-12-01", "ends_on": "2026-12-02"})
    assert res.status_code == 403


def test_the_api_lists_officers_in_scope_with_masked_ids(client: TestClient, cards: Cards) -> None:
    res = client.get("/api/v1/officers", headers=token_for("a_admin"))
    assert res.status_code == 200
    items = res.json()["items"]
    assert {o["name"] for o in items} == {"王建国", "陈志强"}
    wang = next(o for o in items if o["name"] == "王建国")
    assert wang["id_number"] == "330106********7713"
    assert {c["number"]: c["valid_today"] for c in wang["credentials"]} == {cards.valid: True, cards.expired: False}
    own = client.get(f"/api/v1/officers/{cards.officer_id}", headers=token_for("a_officer")).json()
    assert own["id_number"] == "330106198503127713"
    stale = client.patch(f"/api/v1/officers/{cards.officer_id}", headers=token_for("a_admin"),
                         json={"version": wang["version"] - 1, "name": "王"})
    assert stale.status_code == 409


def test_the_cli_lists_officers_and_verifies_numbers(cards: Cards) -> None:
    listed = runner.invoke(cli_app, ["officers", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {r["name"] for r in rows} == {"王建国", "吴磊", "陈志强"}
    assert "330106198503127713" not in listed.stdout
    ok = runner.invoke(cli_app, ["credentials", "verify", cards.valid, "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["valid"] is True
    bad = runner.invoke(cli_app, ["credentials", "verify", cards.revoked, "--json"])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["reason"] == "revoked"
    missing = runner.invoke(cli_app, ["credentials", "verify", "NOPE0001", "--json"])
    assert missing.exit_code == 1 and json.loads(missing.stdout)["found"] is False


def test_an_admin_adds_an_officer_issues_a_credential_and_records_leave_on_the_pages(
        client: TestClient, districts: TwoDistricts) -> None:
    csrf = sign_in(client, "a_admin")
    form = client.get("/officers/new")
    assert form.status_code == 200 and "西湖区市场监督管理局" in form.text and "滨江区" not in form.text
    bad = client.post("/officers/new", data={"csrf_token": csrf, "agency_id": districts.district_a.id,
                                             "name": "刘洋", "id_number": "330106199001011235"})
    assert bad.status_code == 422 and "不是有效的 18 位公民身份号码" in bad.text
    made = client.post("/officers/new", data={"csrf_token": csrf, "agency_id": districts.district_a.id,
                                              "name": "刘洋", "id_number": "33010619900101123X",
                                              "domains": ["market"]}, follow_redirects=False)
    assert made.status_code == 303
    url = made.headers["location"]
    issued = client.post(f"{url}/credentials", data={"csrf_token": csrf, "number": "33010620269999",
                                                     "domains": ["market"], "issued_on": "2026-01-01",
                                                     "expires_on": "2031-12-31"}, follow_redirects=False)
    assert issued.status_code == 303
    leave = client.post(f"{url}/leave", data={"csrf_token": csrf, "starts_on": "2026-12-21",
                                              "ends_on": "2026-12-25", "reason": "年休假"}, follow_redirects=False)
    assert leave.status_code == 303
    page = client.get(url).text
    assert "33010620269999" in page and "2026-12-21" in page and "年休假" in page
    wrong = client.post(f"{url}/leave", data={"csrf_token": csrf, "starts_on": "2026-12-25", "ends_on": "2026-12-21"})
    assert wrong.status_code == 422 and "结束日期不能早于开始日期" in wrong.text
