"""Argon2 password hashing and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_

_hasher = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_policy(password: str, *, field: str = "password", username: str = "") -> None:
    """At least 10 characters with letters and digits, and not the username (等保 basic policy)."""
    if len(password) < MIN_LENGTH:
        raise Invalid(field, N_("Password must be at least {n} characters."), n=MIN_LENGTH)
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise Invalid(field, N_("Password must contain both letters and digits."))
    if username and username.lower() in password.lower():
        raise Invalid(field, N_("Password must not contain the username."))


# A hash to compare against when the user does not exist, so timing does not reveal usernames.
DUMMY_HASH = _hasher.hash("not-a-real-password-0")
