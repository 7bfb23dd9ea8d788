"""Password hashing for console users: argon2id (argon2-cffi), never the password itself."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Verified when a name is unknown, so a wrong name costs as long as a wrong password (no user enumeration by time).
_DUMMY = _HASHER.hash("not a password of anyone")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a console password has at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user (None) still pays for one verification."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
