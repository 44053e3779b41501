"""Data scopes through the API: district A never sees district B's records (数据权限)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.auth.conftest import TwoDistricts, token_for


def usernames(client: TestClient, headers: dict[str, str]) -> set[str]:
    response = client.get("/api/v1/users", headers=headers, params={"limit": 500})
    assert response.status_code == 200, response.text
    return {u["username"] for u in response.json()["items"]}


def test_district_officer_lists_only_own_agency(client: TestClient, districts: TwoDistricts) -> None:
    seen = usernames(client, token_for("a_officer"))
    assert seen == {"a_admin", "a_officer"}


def test_district_officer_cannot_read_other_district_user(client: TestClient, districts: TwoDistricts) -> None:
    headers = token_for("a_officer")
    assert client.get(f"/api/v1/users/{districts.a_admin.id}", headers=headers).status_code == 200
    response = client.get(f"/api/v1/users/{districts.b_officer.id}", headers=headers)
    assert response.status_code == 404  # not 403: existence does not leak
    assert response.json()["error"]["code"] == "not_found"


def test_city_leader_with_region_scope_sees_both_districts(client: TestClient, districts: TwoDistricts) -> None:
    seen = usernames(client, token_for("city_leader"))
    assert {"a_officer", "b_officer", "a_admin", "b_admin", "city_leader"} <= seen


def test_export_is_scoped_and_audited(client: TestClient, districts: TwoDistricts) -> None:
    response = client.get("/api/v1/users/export.csv", headers=token_for("a_admin"))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "a_officer" in text and "西湖区市场监督管理局" in text
    assert "b_officer" not in text and "滨江区" not in text
    from sqlalchemy import select

    from jianguan.audit.models import AuditEntry
    from jianguan.db import session_scope

    with session_scope() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.export")).one()
        assert entry.actor_name == "a_admin"


def test_restricted_fields_are_masked_for_others_and_clear_for_self(
    client: TestClient, districts: TwoDistricts
) -> None:
    other = client.get(f"/api/v1/users/{districts.a_officer.id}", headers=token_for("a_admin")).json()
    assert other["id_number"] == "110101********8515"
    assert other["phone"] == "138****8000"
    own = client.get("/api/v1/auth/me", headers=token_for("a_officer")).json()
    assert own["id_number"] == "110101199003078515"


def test_agency_admin_cannot_create_user_in_other_agency(client: TestClient, districts: TwoDistricts) -> None:
    body = {"username": "intruder", "display_name": "x", "password": "Abcdefgh12", "roles": ["officer"],
            "agency_id": districts.district_b.id}
    response = client.post("/api/v1/users", json=body, headers=token_for("a_admin"))
    assert response.status_code == 403


def test_bad_input_names_the_field(client: TestClient, districts: TwoDistricts) -> None:
    body = {"username": "new_officer", "display_name": "新人", "password": "short", "roles": ["officer"],
            "agency_id": districts.district_a.id}
    response = client.post("/api/v1/users", json=body, headers=token_for("a_admin"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"][0]["field"] == "password"
    assert "10" in error["message"]  # names the problem: the minimum length
    missing = client.post("/api/v1/users", json={"username": "x"}, headers=token_for("a_admin"))
    assert missing.status_code == 422
    assert {"display_name", "password", "roles"} <= {d["field"] for d in missing.json()["error"]["details"]}


def test_stale_edit_gets_409_and_keeps_the_first_edit(client: TestClient, districts: TwoDistricts) -> None:
    headers = token_for("a_admin")
    url = f"/api/v1/users/{districts.a_officer.id}"
    version = client.get(url, headers=headers).json()["version"]
    first = client.patch(url, json={"display_name": "王一", "version": version}, headers=headers)
    assert first.status_code == 200
    second = client.patch(url, json={"display_name": "王二", "version": version}, headers=headers)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "conflict"
    assert client.get(url, headers=headers).json()["display_name"] == "王一"


def test_unauthenticated_api_call_is_401(client: TestClient, districts: TwoDistricts) -> None:
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
