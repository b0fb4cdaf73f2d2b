"""Who may fetch a recording: the bearer token, or the media cookie an `<audio>` element sends.

An `<audio src>` cannot send an `Authorization` header, and a token in the URL would end up in
access logs. So after signing in the app asks for a media cookie (`POST /auth/media-cookie`):
an HttpOnly, SameSite=Strict cookie holding a token that is good only for the media routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from memory.models import User
from web.deps import ServicesDep, bearer, bearer_token, user_for_token

MEDIA_COOKIE = "championclone_media"


async def get_media_user(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The user of a bearer token or, failing that, of the media cookie; 401 otherwise."""
    token = bearer_token(credentials)
    if token is not None:
        return await user_for_token(services, token)
    return await user_for_token(services, request.cookies.get(MEDIA_COOKIE), kind="media")


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
