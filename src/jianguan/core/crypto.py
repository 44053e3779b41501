"""Field encryption at rest for restricted data (ID numbers, phones, complainants' details).

A column of type ``EncryptedString`` stores ``jg1$key_id$alg$a$b``: AES-256-GCM (``cryptography``;
a = nonce, b = ciphertext+tag) or SM4-CBC + HMAC-SM3 (国密, ``gmssl``; a = iv+ciphertext, b = tag)
by ``JIANGUAN_FIELD_CIPHER``. Keys come from ``JIANGUAN_FIELD_KEYS`` (first key encrypts, every key
decrypts) so keys can be rotated with ``jianguan keys rotate`` (``rotate_keys`` below; the operator
procedure is in docs/security.md). Exact lookups use ``lookup_hash`` (HMAC) stored beside the
column, because the ciphertext is randomised and cannot be compared.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import polars as pl
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text, and_, bindparam, not_, select, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from jianguan.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Engine

PREFIX = "jg1"
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
ALG_NAMES = {"aes-gcm": "aesgcm", "sm4": "sm4"}  # setting value -> name inside the stored value


class FieldDecryptError(ValueError):
    """A stored value is malformed, under an unknown key, or was tampered with."""


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(secret: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]  # key_id -> 32 bytes, in order; the first is primary
    lookup_key: bytes
    cipher: str

    @property
    def primary_id(self) -> str:
        return next(iter(self.keys))

    @property
    def current_prefix(self) -> str:
        """How every value written now begins; values not beginning so need rotating."""
        return f"{PREFIX}${self.primary_id}${ALG_NAMES[self.cipher]}$"


def parse_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, b64 = part.partition(":")
        try:
            raw = _b64d(b64.strip())
        except ValueError:
            raw = b""
        if not KEY_ID_RE.match(key_id) or len(raw) != 32:
            raise ValueError(
                f"JIANGUAN_FIELD_KEYS entry {key_id!r}: need 'id:base64 of 32 bytes' "
                "(id: letters, digits, '_', '.', '-'; make one with `jianguan keys new`)"
            )
        if key_id in keys:
            raise ValueError(f"JIANGUAN_FIELD_KEYS: key id {key_id!r} appears twice")
        keys[key_id] = raw
    return keys


@lru_cache(maxsize=4)
def _keyring(field_keys: str, lookup_key: str, secret: str, cipher: str) -> KeyRing:
    keys = parse_keys(field_keys) or {"dev": _derive(secret.encode(), b"jianguan field key")}
    lookup = _b64d(lookup_key) if lookup_key else _derive(secret.encode(), b"jianguan lookup key")
    return KeyRing(keys=keys, lookup_key=lookup, cipher=cipher)


def keyring() -> KeyRing:
    s = get_settings()
    return _keyring(s.field_keys, s.lookup_key, s.secret_key, s.field_cipher)


def new_key() -> str:
    return _b64e(os.urandom(32))


def new_key_spec(key_id: str | None = None) -> str:
    """One ``id:base64`` entry for JIANGUAN_FIELD_KEYS; the id defaults to today's date."""
    key_id = key_id or "k" + dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    if not KEY_ID_RE.match(key_id):
        raise ValueError("key id: 1–32 letters, digits, '_', '.' or '-'")
    return f"{key_id}:{new_key()}"


def sm3_digest(data: bytes) -> bytes:
    """SM3 (GB/T 32905). OpenSSL's through ``cryptography`` when it has it (≈400× faster than the
    pure-Python ``gmssl``), else ``gmssl``; both give the same digest (tests/core/test_crypto.py)."""
    try:
        h = hashes.Hash(hashes.SM3())
    except UnsupportedAlgorithm:  # pragma: no cover - OpenSSL built without SM3
        return sm3_digest_gmssl(data)
    h.update(data)
    return h.finalize()


def sm3_digest_gmssl(data: bytes) -> bytes:
    from gmssl import func, sm3

    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def _sm3_hmac(key: bytes, data: bytes) -> bytes:
    """HMAC (RFC 2104) over SM3, block size 64."""
    block = 64
    if len(key) > block:
        key = sm3_digest(key)
    key = key.ljust(block, b"\0")
    inner = sm3_digest(bytes(k ^ 0x36 for k in key) + data)
    return sm3_digest(bytes(k ^ 0x5C for k in key) + inner)


def encrypt(plaintext: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    key_id = ring.primary_id
    key = ring.keys[key_id]
    data = plaintext.encode()
    if ring.cipher == "sm4":
        from gmssl.sm4 import SM4_ENCRYPT, CryptSM4

        iv = os.urandom(16)
        sm4 = CryptSM4()
        sm4.set_key(key[:16], SM4_ENCRYPT)
        body = iv + bytes(sm4.crypt_cbc(iv, data))
        # Encrypt-then-MAC with the other half of the key; the key id is bound into the tag.
        tag = _sm3_hmac(key[16:], key_id.encode() + b"$sm4$" + body)
        return f"{PREFIX}${key_id}$sm4${_b64e(body)}${_b64e(tag)}"
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, data, key_id.encode())
    return f"{PREFIX}${key_id}$aesgcm${_b64e(nonce)}${_b64e(ct)}"


def _b64e_column(data: pl.Series) -> pl.Expr:
    """``_b64e`` over a Binary column, in Polars (no Python call per value)."""
    return (pl.lit(data).bin.encode("base64").str.replace_all("+", "-", literal=True)
            .str.replace_all("/", "_", literal=True).str.strip_chars_end("="))


def encrypt_column(values: pl.Series, ring: KeyRing | None = None) -> pl.Series:
    """``encrypt`` for a column of an import slice: one cipher object, one call for the nonces, the
    text around the ciphertext built by Polars — millions of values stay affordable. Same format
    (and a fresh random nonce per value); nulls stay null."""
    ring = ring or keyring()
    if ring.cipher == "sm4":
        return pl.Series(values.name, [None if v is None else encrypt(v, ring) for v in values.to_list()], pl.String)
    key_id = ring.primary_id
    aead, aad = AESGCM(ring.keys[key_id]), key_id.encode()
    plain = values.to_list()
    pool = os.urandom(12 * len(plain))
    nonces = [None if v is None else pool[12 * i:12 * i + 12] for i, v in enumerate(plain)]
    sealed = [None if v is None or n is None else aead.encrypt(n, v.encode(), aad)
              for v, n in zip(plain, nonces, strict=True)]
    head = f"{PREFIX}${key_id}$aesgcm$"
    text = pl.select(pl.concat_str(pl.lit(head), _b64e_column(pl.Series(nonces, dtype=pl.Binary)), pl.lit("$"),
                                   _b64e_column(pl.Series(sealed, dtype=pl.Binary))).alias(values.name))
    return text.to_series()


def lookup_hash_column(values: pl.Series, ring: KeyRing | None = None) -> pl.Series:
    """``lookup_hash`` for a column: one-shot HMACs, hex-encoded by Polars."""
    ring = ring or keyring()
    key = ring.lookup_key
    digests = [None if v is None else hmac.digest(key, v.strip().upper().encode(), "sha256") for v in values.to_list()]
    return pl.Series(values.name, digests, pl.Binary).bin.encode("hex")


def encrypt_many(values: list[str | None], ring: KeyRing | None = None) -> list[str | None]:
    """``encrypt_column`` for a list."""
    return encrypt_column(pl.Series(values, dtype=pl.String), ring).to_list()


def lookup_hash_many(values: list[str | None], ring: KeyRing | None = None) -> list[str | None]:
    """``lookup_hash_column`` for a list."""
    return lookup_hash_column(pl.Series(values, dtype=pl.String), ring).to_list()


def decrypt(token: str, ring: KeyRing | None = None) -> str:
    """The plaintext; ``FieldDecryptError`` when the value is malformed, tampered with or its key gone."""
    ring = ring or keyring()
    parts = token.split("$")
    if len(parts) != 5 or parts[0] != PREFIX:
        raise FieldDecryptError("not an encrypted field value")
    _, key_id, alg, a, b = parts
    key = ring.keys.get(key_id)
    if key is None:
        raise FieldDecryptError(f"field key {key_id!r} is not in JIANGUAN_FIELD_KEYS")
    try:
        if alg == "sm4":
            from gmssl.sm4 import SM4_DECRYPT, CryptSM4

            body, tag = _b64d(a), _b64d(b)
            if not hmac.compare_digest(tag, _sm3_hmac(key[16:], key_id.encode() + b"$sm4$" + body)):
                raise FieldDecryptError("encrypted field failed its integrity check")
            if len(body) < 32 or len(body) % 16:
                raise FieldDecryptError("encrypted field has a malformed body")
            sm4 = CryptSM4()
            sm4.set_key(key[:16], SM4_DECRYPT)
            return bytes(sm4.crypt_cbc(body[:16], body[16:])).decode()
        if alg == "aesgcm":
            return AESGCM(key).decrypt(_b64d(a), _b64d(b), key_id.encode()).decode()
    except InvalidTag as exc:
        raise FieldDecryptError("encrypted field failed its integrity check") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, FieldDecryptError):
            raise
        raise FieldDecryptError(f"encrypted field is malformed: {exc}") from exc
    raise FieldDecryptError(f"unknown field cipher {alg!r}")


def key_id_of(token: str) -> str:
    return token.split("$")[1]


def needs_rotation(token: str, ring: KeyRing | None = None) -> bool:
    """True when a stored value is not under the primary key and the configured cipher."""
    ring = ring or keyring()
    return not token.startswith(ring.current_prefix)


def lookup_hash(value: str | None, ring: KeyRing | None = None) -> str | None:
    """Keyed hash for exact-match lookups of an encrypted value (normalised: trimmed, upper case)."""
    if value is None:
        return None
    ring = ring or keyring()
    return hmac.new(ring.lookup_key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


class EncryptedString(TypeDecorator[str]):
    """Text column whose values are encrypted before they reach the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


# --- key rotation (``jianguan keys rotate``) -------------------------------------------------------


def encrypted_columns() -> list[tuple[Table, Column[Any]]]:
    """Every ``EncryptedString`` column of every table, found from the models (registry order)."""
    from jianguan import registry
    from jianguan.db import Base

    registry.import_all_models()
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedString):
                found.append((table, column))
    return found


def _raw(column: Column[Any]) -> Any:
    # The stored text itself: without this the TypeDecorator would decrypt on read and encrypt binds.
    return type_coerce(column, Text())


def _not_current(column: Column[Any], ring: KeyRing) -> Any:
    pattern = ring.current_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return and_(column.is_not(None), not_(_raw(column).like(pattern, escape="\\")))


@dataclass
class ColumnRotation:
    table: str
    column: str
    total: int = 0  # non-empty values
    pending: int = 0  # not under the primary key / configured cipher (before rotating)
    rotated: int = 0
    skipped: int = 0  # changed by someone else between read and write; already current
    batches: int = 0
    key_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "total": self.total, "pending": self.pending,
                "rotated": self.rotated, "skipped": self.skipped, "batches": self.batches,
                "key_id": self.key_id}


@dataclass
class RotationError(Exception):
    table: str
    column: str
    row_id: Any
    reason: str
    done: list[ColumnRotation] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.table}.{self.column} row {self.row_id}: {self.reason}"


def rotation_status(engine: Engine, ring: KeyRing | None = None) -> list[ColumnRotation]:
    """Per encrypted column: how many values there are and how many are not yet under the primary key."""
    from sqlalchemy import func

    ring = ring or keyring()
    result = []
    with engine.connect() as conn:
        for table, column in encrypted_columns():
            count = select(func.count()).select_from(table)
            total = conn.scalar(count.where(column.is_not(None))) or 0
            pending = conn.scalar(count.where(_not_current(column, ring))) or 0
            result.append(ColumnRotation(table.name, column.name, total=total, pending=pending,
                                         key_id=ring.primary_id))
    return result


def rotate_keys(
    engine: Engine,
    *,
    batch: int = 500,
    ring: KeyRing | None = None,
    on_batch: Callable[[ColumnRotation, int], None] | None = None,
    on_column: Callable[[ColumnRotation], None] | None = None,
) -> list[ColumnRotation]:
    """Re-encrypt every value not under the primary key (or not under the configured cipher).

    One transaction per batch, each with its audit entry, so the run can be stopped and resumed
    at any point. Rows are walked by primary key; a value changed by the application between our
    read and our write is left alone (the application wrote it under the current key already).
    Unchanged: the plaintext, the lookup hashes, ``version`` and ``updated_at``.
    """
    from jianguan.audit import service as audit
    from jianguan.db import session_scope

    ring = ring or keyring()
    done: list[ColumnRotation] = []
    for status in rotation_status(engine, ring):
        table, column = next((t, c) for t, c in encrypted_columns()
                             if t.name == status.table and c.name == status.column)
        if on_column is not None:
            on_column(status)
        done.append(status)
        if status.pending == 0:
            continue
        (pk,) = table.primary_key.columns  # every table here has a single ``id`` key
        keep = {c.name: c for c in table.columns if c.onupdate is not None}  # no updated_at bump
        write = (
            update(table)
            .where(pk == bindparam("_pk"), _raw(column) == bindparam("_old", type_=Text()))
            .values({column.name: bindparam("_new", type_=Text()), **keep})
        )
        last: Any = None
        while True:
            with session_scope(engine) as db:
                query = select(pk, _raw(column)).where(_not_current(column, ring))
                if last is not None:
                    query = query.where(pk > last)
                rows = db.execute(query.order_by(pk).limit(batch)).all()
                if not rows:
                    break
                rotated = 0
                for row_id, token in rows:
                    try:
                        plain = decrypt(token, ring)
                    except FieldDecryptError as exc:
                        raise RotationError(table.name, column.name, row_id, str(exc), done) from exc
                    changed = db.execute(write, {"_pk": row_id, "_old": token, "_new": encrypt(plain, ring)})
                    if changed.rowcount:  # type: ignore[attr-defined]
                        rotated += 1
                    else:
                        status.skipped += 1
                last = rows[-1][0]
                audit.record(db, actor=None, action="keys.rotate", object_type="table",
                             object_id=f"{table.name}.{column.name}",
                             payload={"ids": [r[0] for r in rows], "key_id": ring.primary_id},
                             detail={"table": table.name, "column": column.name, "rows": rotated,
                                     "from_id": rows[0][0], "to_id": last, "key_id": ring.primary_id,
                                     "cipher": ring.cipher})
            status.rotated += rotated
            status.batches += 1
            if on_batch is not None:
                on_batch(status, len(rows))
    return done
