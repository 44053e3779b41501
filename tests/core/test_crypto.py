"""Restricted fields are encrypted at rest, findable by keyed hash, tamper-evident and rotatable."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from jianguan.audit import service as audit
from jianguan.auth import service
from jianguan.auth.models import User
from jianguan.config import reset_settings
from jianguan.core import crypto
from jianguan.core.crypto import FieldDecryptError, KeyRing, decrypt, encrypt, lookup_hash
from jianguan.db import get_engine, session_scope

ID_NUMBER = "110101199003078515"
PHONE = "13800138000"
PASSWORD = "Passw0rd-2026"


def key(seed: int) -> str:
    return base64.urlsafe_b64encode(bytes([seed]) * 32).decode()


K1, K2 = f"k1:{key(1)}", f"k2:{key(2)}"


def use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"JIANGUAN_{name.upper()}", value)
    reset_settings()


def ring(cipher: str, *ids: str) -> KeyRing:
    return KeyRing(keys={i: os.urandom(32) for i in ids or ("k1",)}, lookup_key=b"l" * 32, cipher=cipher)


def make_user(username: str, id_number: str = ID_NUMBER, phone: str = PHONE) -> int:
    with session_scope() as db:
        user = service.create_user(db, username=username, display_name="张伟", password=PASSWORD,
                                   roles=["officer"], data_scope="all", id_number=id_number, phone=phone,
                                   actor=None)
        return user.id


def stored_bytes(url: str) -> bytes:
    """Everything the database keeps on disk (SQLite) or every row of every table as text (PostgreSQL)."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    from jianguan import registry
    from jianguan.db import Base

    registry.import_all_models()
    with get_engine(url).connect() as conn:
        rows = [conn.execute(text(f'SELECT CAST(t AS text) FROM "{table}" AS t')).scalars().all()
                for table in Base.metadata.tables]
    return "\n".join(str(v) for r in rows for v in r).encode()


def raw_values(column: str) -> list[str]:
    with get_engine().connect() as conn:
        return list(conn.execute(text(f"SELECT {column} FROM users WHERE {column} IS NOT NULL")).scalars())


@pytest.fixture
def k1(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use(monkeypatch, field_keys=K1, field_cipher="aes-gcm")
    yield fresh_db_url


def test_database_holds_no_plaintext_id_number_or_phone(k1: str) -> None:
    user_id = make_user("zhangwei")
    data = stored_bytes(k1)
    assert b"zhangwei" in data  # the check does see the stored rows
    assert ID_NUMBER.encode() not in data and PHONE.encode() not in data
    assert all(v.startswith("jg1$k1$aesgcm$") for v in raw_values("id_number") + raw_values("phone"))
    with session_scope() as db:
        found = db.scalar(select(User).where(User.id_number_hash == lookup_hash(ID_NUMBER)))
        assert found is not None and found.id == user_id
        assert found.id_number == ID_NUMBER and found.phone == PHONE
        assert db.scalar(select(User.id).where(User.phone_hash == lookup_hash(f" {PHONE} "))) == user_id


def test_sm4_mode_round_trips_and_stores_no_plaintext(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, field_keys=K1, field_cipher="sm4")
    make_user("lina")
    data = stored_bytes(fresh_db_url)
    assert ID_NUMBER.encode() not in data and PHONE.encode() not in data
    assert all(v.startswith("jg1$k1$sm4$") for v in raw_values("id_number"))
    with session_scope() as db:
        user = db.scalars(select(User).where(User.username == "lina")).one()
        assert (user.id_number, user.phone) == (ID_NUMBER, PHONE)


@pytest.mark.parametrize("cipher", ["aes-gcm", "sm4"])
def test_tampered_ciphertext_is_refused(cipher: str) -> None:
    keys = ring(cipher)
    token = encrypt(ID_NUMBER, keys)
    prefix, key_id, alg, a, b = token.split("$")
    flip = "A" if a[5] != "A" else "B"
    tampered = [
        f"{prefix}${key_id}${alg}${a[:5]}{flip}{a[6:]}${b}",  # body
        f"{prefix}${key_id}${alg}${a}${b[:-2]}{'AA' if b[-2:] != 'AA' else 'BB'}",  # tag
        f"{prefix}${key_id}${alg}${a}",  # truncated
        token.replace("$k1$", "$k9$"),  # unknown key
        "110101199003078515",  # plaintext slipped in
    ]
    for bad in tampered:
        with pytest.raises(FieldDecryptError):
            decrypt(bad, keys)
    assert decrypt(token, keys) == ID_NUMBER


def test_a_value_moved_to_another_key_id_is_refused() -> None:
    keys = KeyRing(keys={"k1": b"a" * 32, "k2": b"a" * 32}, lookup_key=b"l" * 32, cipher="aes-gcm")
    token = encrypt(PHONE, keys)
    with pytest.raises(FieldDecryptError):
        decrypt(token.replace("$k1$", "$k2$"), keys)  # the key id is bound to the ciphertext


@settings(max_examples=60, deadline=None)
@given(plaintext=st.text(max_size=200), cipher=st.sampled_from(["aes-gcm", "sm4"]))
def test_encryption_round_trips_any_text(plaintext: str, cipher: str) -> None:
    keys = KeyRing(keys={"k1": b"k" * 32}, lookup_key=b"l" * 32, cipher=cipher)
    token = encrypt(plaintext, keys)
    assert decrypt(token, keys) == plaintext
    assert encrypt(plaintext, keys) != token  # randomised: equal values do not look equal


def test_bad_key_specs_are_refused_with_the_entry_named() -> None:
    with pytest.raises(ValueError, match="'k1'"):
        crypto.parse_keys("k1:c2hvcnQ")
    with pytest.raises(ValueError, match="twice"):
        crypto.parse_keys(f"{K1},{K1}")
    with pytest.raises(ValueError):
        crypto.parse_keys(f"bad$id:{key(1)}")
    assert list(crypto.parse_keys(f"{K2}, {K1}")) == ["k2", "k1"]


def test_new_key_spec_parses_as_a_key() -> None:
    spec = crypto.new_key_spec("k2026a")
    assert list(crypto.parse_keys(spec)) == ["k2026a"]
    assert crypto.new_key_spec() != crypto.new_key_spec()


# --- rotation ------------------------------------------------------------------------------------


def test_rotation_moves_every_value_to_the_new_key_and_old_key_can_then_go(
    k1: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [make_user(f"officer{i}", id_number=f"33010619900101{i:03d}X", phone=f"1390000{i:04d}")
           for i in range(5)]
    with session_scope() as db:
        before = {u.id: (u.version, u.updated_at) for u in db.scalars(select(User))}
    use(monkeypatch, field_keys=f"{K2},{K1}")
    done = crypto.rotate_keys(get_engine(), batch=2)
    by_column = {(d.table, d.column): d for d in done}
    assert by_column["users", "id_number"].rotated == 5 and by_column["users", "phone"].rotated == 5
    assert by_column["users", "id_number"].batches == 3
    assert ("account_requests", "phone") in by_column  # every EncryptedString column is found
    assert all(v.startswith("jg1$k2$aesgcm$") for v in raw_values("id_number") + raw_values("phone"))
    assert all(s.pending == 0 for s in crypto.rotation_status(get_engine()))
    assert crypto.rotate_keys(get_engine())[0].rotated == 0  # re-running is a no-op
    use(monkeypatch, field_keys=K2)  # the old key is removed
    with session_scope() as db:
        users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids)))}
        assert users[ids[3]].id_number == "33010619900101003X"
        assert users[ids[3]].phone == "13900000003"
        assert {u.id: (u.version, u.updated_at) for u in users.values()} == {i: before[i] for i in ids}
        by_hash = select(User.id).where(User.id_number_hash == lookup_hash("33010619900101003x"))
        assert db.scalar(by_hash) == ids[3]
        assert audit.verify(db).ok
        rows, _ = audit.list_entries(db, action="keys.rotate")
        assert {r.object_id for r in rows} == {"users.id_number", "users.phone"}


def test_rotation_also_moves_values_to_a_newly_configured_cipher(
    k1: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("wangfang")
    use(monkeypatch, field_cipher="sm4")
    crypto.rotate_keys(get_engine())
    assert all(v.startswith("jg1$k1$sm4$") for v in raw_values("id_number"))
    with session_scope() as db:
        assert db.scalars(select(User.id_number).where(User.username == "wangfang")).one() == ID_NUMBER


def test_rotation_stops_at_a_value_under_an_unknown_key(k1: str, monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = make_user("liuyang")
    use(monkeypatch, field_keys=f"{K2}")  # k1 dropped before rotating: a mistake
    with pytest.raises(crypto.RotationError) as caught:
        crypto.rotate_keys(get_engine())
    assert (caught.value.table, caught.value.row_id) == ("users", user_id)
    assert "k1" in caught.value.reason


def test_keys_cli_new_status_and_rotate(k1: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from jianguan.cli import app

    make_user("chenjing")
    runner = CliRunner()
    spec = runner.invoke(app, ["keys", "new", "--id", "k3"]).stdout.strip()
    assert spec.startswith("k3:") and list(crypto.parse_keys(spec)) == ["k3"]
    use(monkeypatch, field_keys=f"{spec},{K1}")
    status = runner.invoke(app, ["keys", "status", "--json"])
    assert status.exit_code == 0, status.output
    assert '"pending": 1' in status.stdout
    result = runner.invoke(app, ["keys", "rotate", "--json", "--batch", "10"])
    assert result.exit_code == 0, result.output
    assert '"remaining": 0' in result.stdout
    assert all(v.startswith("jg1$k3$") for v in raw_values("phone"))
    again = runner.invoke(app, ["keys", "rotate"])  # with the progress bar
    assert again.exit_code == 0, again.output
    assert "every value is now under key k3" in again.stdout


def test_the_column_helpers_give_what_the_single_value_functions_give() -> None:
    from jianguan.core.crypto import decrypt, encrypt_many, lookup_hash, lookup_hash_many

    values = ["110101199003078515", None, "13800138000", "110101199003078515"]
    sealed = encrypt_many(values)
    assert sealed[1] is None and sealed[0] != sealed[3]  # a fresh nonce per value
    assert [decrypt(s) if s else None for s in sealed] == values
    assert lookup_hash_many(values) == [lookup_hash(v) for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(min_size=0, max_size=40)), max_size=30))
def test_column_helpers_agree_with_the_single_value_functions_on_any_text(values: list[str | None]) -> None:
    """Base64 and hex done by Polars must give exactly the per-value format (padding, url-safe
    alphabet, lower-case hex), for any text including the empty string."""
    import polars as pl

    from jianguan.core.crypto import decrypt, encrypt_column, lookup_hash, lookup_hash_column

    column = pl.Series("v", values, dtype=pl.String)
    sealed = encrypt_column(column)
    assert sealed.name == "v" and sealed.len() == len(values)
    assert [None if s is None else decrypt(s) for s in sealed.to_list()] == values
    assert all(s is None or re.fullmatch(r"jg1\$[^$]+\$aesgcm\$[A-Za-z0-9_-]{16}\$[A-Za-z0-9_-]+", s)
               for s in sealed.to_list())
    assert lookup_hash_column(column).to_list() == [lookup_hash(v) for v in values]
