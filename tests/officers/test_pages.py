"""Agency and account pages: scoped like the API, editable only by the right admin, stale edits refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.auth.conftest import PASSWORD, TwoDistricts


def sign_in(client: TestClient, username: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    done = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert found
    return found.group(1)


def test_district_officer_sees_only_own_agency_on_the_pages(client: TestClient, districts: TwoDistricts) -> None:
    sign_in(client, "a_officer")
    officers = client.get("/officers")
    assert officers.status_code == 200
    assert "西湖区市场监督管理局" in officers.text
    assert "滨江区市场监督管理局" not in officers.text
    users = client.get("/users")
    assert "a_admin" in users.text and "b_officer" not in users.text
    assert client.get(f"/users/{districts.b_officer.id}").status_code == 404
    found = client.get("/users", params={"q": "b_"})
    assert "b_officer" not in found.text


def test_city_leader_sees_the_agency_tree_of_the_city(client: TestClient, districts: TwoDistricts) -> None:
    sign_in(client, "city_leader")
    text = client.get("/officers").text
    assert text.index("杭州市市场监督管理局") < text.index("西湖区市场监督管理局")
    assert "滨江区市场监督管理局" in text


def test_restricted_fields_are_masked_on_the_account_page(client: TestClient, districts: TwoDistricts) -> None:
    sign_in(client, "a_admin")
    text = client.get(f"/users/{districts.a_officer.id}").text
    assert "110101********8515" in text
    assert "110101199003078515" not in text


def test_admin_edits_an_account_and_a_stale_form_is_refused(client: TestClient, districts: TwoDistricts) -> None:
    csrf = sign_in(client, "a_admin")
    page = client.get(f"/users/{districts.a_officer.id}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    form = {"csrf_token": csrf, "version": version.group(1), "display_name": "王建国", "roles": ["officer"],
            "data_scope": "agency", "is_active": "on"}
    saved = client.post(f"/users/{districts.a_officer.id}", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert "王建国" in client.get(f"/users/{districts.a_officer.id}").text
    stale = client.post(f"/users/{districts.a_officer.id}", data={**form, "display_name": "李四"})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text or "他人" in stale.text
    assert "李四" not in client.get(f"/users/{districts.a_officer.id}").text


def test_edit_with_a_bad_field_shows_the_error_next_to_it(client: TestClient, districts: TwoDistricts) -> None:
    csrf = sign_in(client, "a_admin")
    page = client.get(f"/users/{districts.a_officer.id}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    response = client.post(f"/users/{districts.a_officer.id}",
                           data={"csrf_token": csrf, "version": version.group(1), "display_name": "",
                                 "roles": ["officer"], "data_scope": "agency"})
    assert response.status_code == 422
    assert 'id="f-display_name-err"' in response.text


def test_officer_cannot_edit_accounts(client: TestClient, districts: TwoDistricts) -> None:
    csrf = sign_in(client, "a_officer")
    page = client.get(f"/users/{districts.a_admin.id}").text
    assert 'action="/users/' not in page
    response = client.post(f"/users/{districts.a_admin.id}",
                           data={"csrf_token": csrf, "version": "1", "display_name": "x", "roles": ["officer"]})
    assert response.status_code == 403
