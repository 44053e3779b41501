"""OIDC sign-in: an identity signs in only after it is bound to an existing account."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.auth.conftest import PASSWORD, TwoDistricts
from tests.auth.fake_idp import FakeIdentityProvider


@pytest.fixture
def idp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider()
    provider.start()
    monkeypatch.setenv("JIANGUAN_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("JIANGUAN_OIDC_CLIENT_ID", provider.client_id)
    monkeypatch.setenv("JIANGUAN_OIDC_CLIENT_SECRET", "s3cret")
    from jianguan.config import reset_settings

    reset_settings()
    yield provider
    provider.stop()


def go_through_provider(client: TestClient, start: str) -> str:
    """Follow our redirect to the provider and its redirect back; return where we finally land."""
    import httpx2

    to_idp = client.get(start, follow_redirects=False)
    assert to_idp.status_code in (302, 303, 307), to_idp.text
    back = httpx2.get(to_idp.headers["location"], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    landed = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    return landed.headers["location"]


def sign_in_with_password(client: TestClient, username: str) -> None:
    import re

    client.cookies.clear()

    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, "login form carries a CSRF token"
    done = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)},
                       follow_redirects=False)
    assert done.status_code == 303


def test_unbound_identity_is_sent_back_to_login(client: TestClient, districts: TwoDistricts,
                                                idp: FakeIdentityProvider) -> None:
    idp.next_sub = "stranger"
    assert go_through_provider(client, "/auth/oidc/login?next=/") == "/login?error=oidc_unbound"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_bound_identity_signs_in(client: TestClient, districts: TwoDistricts, idp: FakeIdentityProvider) -> None:
    from jianguan.auth import oidc
    from jianguan.db import session_scope

    with session_scope() as db:
        from jianguan.auth.models import User

        user = db.get(User, districts.a_officer.id)
        assert user is not None
        oidc.bind(db, user=user, subject=oidc.subject_key(idp.issuer, "officer-001"))
    idp.next_sub = "officer-001"
    assert go_through_provider(client, "/auth/oidc/login?next=/account") == "/account"
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "a_officer"


def test_signed_in_officer_binds_identity_then_uses_it(client: TestClient, districts: TwoDistricts,
                                                       idp: FakeIdentityProvider) -> None:
    sign_in_with_password(client, "b_officer")
    idp.next_sub = "gov-777"
    assert go_through_provider(client, "/auth/oidc/bind") == "/account"
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401
    assert go_through_provider(client, "/auth/oidc/login") == "/"
    assert client.get("/api/v1/auth/me").json()["username"] == "b_officer"


def test_identity_cannot_be_bound_to_two_accounts(db: object, districts: TwoDistricts) -> None:
    from jianguan.auth import oidc
    from jianguan.auth.models import User
    from jianguan.core.errors import Conflict
    from jianguan.db import session_scope

    with session_scope() as s:
        a = s.get(User, districts.a_officer.id)
        b = s.get(User, districts.b_officer.id)
        assert a is not None and b is not None
        oidc.bind(s, user=a, subject="https://idp#x")
        with pytest.raises(Conflict):
            oidc.bind(s, user=b, subject="https://idp#x")
