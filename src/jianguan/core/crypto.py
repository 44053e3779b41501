"""Field encryption at rest for restricted data (ID numbers, phones, complainants' details).

A column of type ``EncryptedString`` stores ``jg1$key_id$alg$nonce$ciphertext``: AES-256-GCM
(``cryptography``) or SM4-CBC + HMAC-SM3 (国密, ``gmssl``) by ``JIANGUAN_FIELD_CIPHER``. Keys come
from ``JIANGUAN_FIELD_KEYS`` (first key encrypts, every key decrypts) so keys can be rotated with
``jianguan keys rotate``. Exact lookups use ``lookup_hash`` (HMAC) stored beside the column.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from jianguan.config import get_settings

PREFIX = "jg1"


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


def parse_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, b64 = part.partition(":")
        raw = _b64d(b64)
        if not key_id or len(raw) != 32:
            raise ValueError(f"JIANGUAN_FIELD_KEYS entry {key_id!r}: need 'id:base64 of 32 bytes'")
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


def _sm3_hmac(key: bytes, data: bytes) -> bytes:
    from gmssl import func, sm3

    block = 64
    if len(key) > block:
        key = bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(key)))
    key = key.ljust(block, b"\0")
    inner = bytes(k ^ 0x36 for k in key) + data
    inner_digest = bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(inner)))
    outer = bytes(k ^ 0x5C for k in key) + inner_digest
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(outer)))


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
        tag = _sm3_hmac(key[16:], key_id.encode() + body)
        return f"{PREFIX}${key_id}$sm4${_b64e(body)}${_b64e(tag)}"
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, data, key_id.encode())
    return f"{PREFIX}${key_id}$aesgcm${_b64e(nonce)}${_b64e(ct)}"


def decrypt(token: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    prefix, key_id, alg, a, b = token.split("$")
    if prefix != PREFIX:
        raise ValueError("not an encrypted field value")
    key = ring.keys.get(key_id)
    if key is None:
        raise ValueError(f"field key {key_id!r} is not in JIANGUAN_FIELD_KEYS")
    if alg == "sm4":
        from gmssl.sm4 import SM4_DECRYPT, CryptSM4

        body, tag = _b64d(a), _b64d(b)
        if not hmac.compare_digest(tag, _sm3_hmac(key[16:], key_id.encode() + body)):
            raise ValueError("encrypted field failed its integrity check")
        sm4 = CryptSM4()
        sm4.set_key(key[:16], SM4_DECRYPT)
        return bytes(sm4.crypt_cbc(body[:16], body[16:])).decode()
    return AESGCM(key).decrypt(_b64d(a), _b64d(b), key_id.encode()).decode()


def key_id_of(token: str) -> str:
    return token.split("$")[1]


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
