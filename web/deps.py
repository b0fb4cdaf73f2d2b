"""FastAPI dependencies: services, the signed-in user, rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from memory.models import User
from memory.queries.users import get_user
from memory.settings import RateLimitName
from web.security import InvalidToken, TokenKind
from web.services import Services

bearer = HTTPBearer(auto_error=False, description="The access_token from POST /auth/login")


def get_services(request: Request) -> Services:
    """The app's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """A database session for the route's own queries.

    It takes a pooled connection at its first query and gives it back when the route
    function returns (``scope="function"``), before the response is sent: a streamed
    response, or a slow client reading one, never holds a connection. A route that waits
    on something else (a request body, a second session) does not take this session.
    """
    async with services.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def user_for_token(
    services: Services, token: str | None, *, kind: TokenKind = "access"
) -> User:
    """The user a valid token of ``kind`` names; 401 with the reason otherwise.

    The user is read in a session of its own, closed before the route runs; the returned
    row is detached, its columns loaded.
    """
    challenge = {"WWW-Authenticate": "Bearer"}
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first: send 'Authorization: Bearer <token>'",
            headers=challenge,
        )
    try:
        user_id = services.tokens.verify(token, kind=kind)
    except InvalidToken as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers=challenge) from exc
    async with services.db.session() as session:
        user = await get_user(session, user_id=user_id)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "account no longer exists", headers=challenge
        )
    return user


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    return credentials.credentials


async def get_current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The user named by a valid bearer token; 401 otherwise."""
    return await user_for_token(services, bearer_token(credentials))


CurrentUser = Annotated[User, Depends(get_current_user)]

LimitName = RateLimitName


def client_address(request: Request) -> str:
    """The caller's address as the server sees it."""
    return request.client.host if request.client else "unknown"


async def _enforce(services: Services, name: LimitName, who: str) -> None:
    retry_after = await services.limiter.hit(f"{name}:{who}", services.settings.rate_limit(name))
    if retry_after is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many requests; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


async def enforce_user_limit(services: Services, name: LimitName, user_id: str) -> None:
    """Counts a request against the user's ``name`` limit; 429 when it is used up (for a
    route that only learns from the body which limit applies)."""
    await _enforce(services, name, f"user:{user_id}")


def limit_per_user(name: LimitName) -> Any:
    """A dependency that counts a request against the signed-in user's ``name`` limit."""

    async def dependency(services: ServicesDep, user: CurrentUser) -> None:
        await enforce_user_limit(services, name, user.id)

    return Depends(dependency)


def limit_per_client(name: LimitName) -> Any:
    """A dependency that counts a request against the client address's ``name`` limit."""

    async def dependency(services: ServicesDep, request: Request) -> None:
        await _enforce(services, name, f"client:{client_address(request)}")

    return Depends(dependency)
