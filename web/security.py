"""Password hashing (bcrypt) and bearer tokens (PyJWT, HS256 with expiry)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Literal

import bcrypt
import jwt

ALGORITHM = "HS256"
TokenKind = Literal["access", "media"]
"""``access`` tokens are the API's bearer tokens; ``media`` tokens ride in a cookie and only
let `<audio>` elements fetch the user's own recordings."""
BCRYPT_MAX_BYTES = 72
# Hashes to check against when the e-mail is unknown, one per cost, made on first use: an
# unknown e-mail must cost as much as a known one with a wrong password, or the time of a
# failed sign-in tells which e-mails have accounts.
_dummy_hashes: dict[int, str] = {}


class InvalidToken(Exception):
    """The bearer token is missing, malformed, tampered with or expired."""


async def hash_password(password: str, *, rounds: int) -> str:
    """A bcrypt hash of ``password`` (computed off the event loop)."""
    salt = bcrypt.gensalt(rounds=rounds)
    hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


def hash_cost(password_hash: str) -> int | None:
    """The bcrypt cost (log2 rounds) a hash was made with; None if it is not a bcrypt hash."""
    parts = password_hash.split("$")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return int(parts[2])


def needs_rehash(password_hash: str, *, rounds: int) -> bool:
    """Whether a stored hash was made at another cost than ``rounds`` (``BCRYPT_ROUNDS``)."""
    return hash_cost(password_hash) != rounds


async def dummy_hash(rounds: int) -> str:
    """A hash of no one's password at cost ``rounds``, made once (off the event loop)."""
    cached = _dummy_hashes.get(rounds)
    if cached is None:
        cached = await hash_password(secrets.token_urlsafe(16), rounds=rounds)
        cached = _dummy_hashes.setdefault(rounds, cached)
    return cached


async def verify_password(password: str, password_hash: str | None, *, rounds: int) -> bool:
    """Whether ``password`` matches ``password_hash``.

    With no usable hash (unknown e-mail, or a password bcrypt cannot take) it checks against a
    dummy hash at cost ``rounds``, the cost of every hash made now, and says no: a failure
    takes as long whether or not the account exists.

    Args:
        password: what the user typed.
        password_hash: the account's stored hash; None when there is no such account.
        rounds: ``BCRYPT_ROUNDS``.
    """
    secret = password.encode()
    usable = bool(password_hash) and len(secret) <= BCRYPT_MAX_BYTES
    candidate = password_hash if usable and password_hash else await dummy_hash(rounds)
    matches = await asyncio.to_thread(bcrypt.checkpw, secret[:BCRYPT_MAX_BYTES], candidate.encode())
    return matches and usable


@dataclass(frozen=True)
class TokenService:
    """Issues and checks bearer tokens.

    Args:
        secret: the HS256 signing key.
        expires_minutes: token lifetime.
    """

    secret: str
    expires_minutes: int

    @property
    def expires_in(self) -> int:
        """Token lifetime in seconds."""
        return self.expires_minutes * 60

    def issue(self, user_id: str, *, kind: TokenKind = "access") -> str:
        """A signed token of ``kind`` for ``user_id``."""
        now = int(time.time())
        claims = {"sub": user_id, "iat": now, "exp": now + self.expires_in, "typ": kind}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str, *, kind: TokenKind = "access") -> str:
        """The user id in a valid token of ``kind``; raises `InvalidToken` with a reason."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired; sign in again") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("token is invalid; sign in again") from exc
        if claims.get("typ") != kind or not isinstance(claims.get("sub"), str):
            raise InvalidToken("token is invalid; sign in again")
        return str(claims["sub"])
