"""Password hashing (bcrypt) and bearer tokens (PyJWT, HS256 with expiry)."""

from __future__ import annotations

import asyncio
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
# A hash to check against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=4)).decode()


class InvalidToken(Exception):
    """The bearer token is missing, malformed, tampered with or expired."""


async def hash_password(password: str, *, rounds: int) -> str:
    """A bcrypt hash of ``password`` (computed off the event loop)."""
    salt = bcrypt.gensalt(rounds=rounds)
    hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; with no hash it still spends the time, then says no."""
    secret = password.encode()
    usable = password_hash is not None and len(secret) <= BCRYPT_MAX_BYTES
    candidate = (password_hash if usable else _DUMMY_HASH) or _DUMMY_HASH
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
