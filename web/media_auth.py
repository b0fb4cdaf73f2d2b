"""Who may fetch a recording: the bearer token, or the media cookie an `<audio>` element sends.

An `<audio src>` cannot send an `Authorization` header, and a token in the URL would end up in
access logs. So after signing in the app asks for a media cookie (`POST /auth/media-cookie`):
an HttpOnly, SameSite=Strict cookie holding a token that is good only for the media routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from memory.models import User
from memory.queries.users import get_user
from web.deps import ServicesDep, SessionDep
from web.security import InvalidToken

MEDIA_COOKIE = "championclone_media"
_bearer = HTTPBearer(auto_error=False, description="The access_token from POST /auth/login")


async def get_media_user(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user of a bearer token or, failing that, of the media cookie; 401 otherwise."""
    cookie = request.cookies.get(MEDIA_COOKIE)
    try:
        if credentials is not None and credentials.scheme.lower() == "bearer":
            user_id = services.tokens.verify(credentials.credentials)
        elif cookie:
            user_id = services.tokens.verify(cookie, kind="media")
        else:
            raise InvalidToken("sign in first: send 'Authorization: Bearer <token>'")
    except InvalidToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from exc
    user = await get_user(session, user_id=user_id)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "account no longer exists")
    return user


MediaUser = Annotated[User, Depends(get_media_user)]


def set_media_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """Puts the media token in an HttpOnly, SameSite=Strict cookie (Secure over https)."""
    response.set_cookie(
        MEDIA_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_media_cookie(response: Response) -> None:
    """Forgets the media cookie (signing out)."""
    response.delete_cookie(MEDIA_COOKIE, path="/", httponly=True, samesite="strict")
