"""Sign-up, sign-in and the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from memory.queries.users import EmailTaken, create_user, get_user, get_user_by_email
from memory.schemas import TokenPublic, UserCreate, UserPublic, UserRegister
from web.deps import CurrentUser, ServicesDep, SessionDep, limit_per_client
from web.media_auth import clear_media_cookie, set_media_cookie
from web.security import hash_password, needs_rehash, verify_password

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[limit_per_client("register")],
)
async def register(body: UserRegister, services: ServicesDep, session: SessionDep) -> UserPublic:
    """Creates an account; 409 if the e-mail is taken (at most ``RATE_LIMIT_REGISTER`` tries
    per client address)."""
    password_hash = await hash_password(body.password, rounds=services.settings.bcrypt_rounds)
    try:
        user = await create_user(session, email=body.email, password_hash=password_hash)
    except EmailTaken as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "an account with this e-mail already exists; sign in instead"
        ) from exc
    return UserPublic.model_validate(user)


@router.post("/login", response_model=TokenPublic, dependencies=[limit_per_client("login")])
async def login(body: UserCreate, services: ServicesDep) -> TokenPublic:
    """Exchanges e-mail and password for a bearer token; 401 if they do not match.

    A hash made at another cost than ``BCRYPT_ROUNDS`` is remade at that cost on a good
    sign-in, so every account's check comes to cost the same as an unknown e-mail's. No
    database connection is held while bcrypt works: the user is read, and a remade hash
    written, in short sessions of their own.
    """
    rounds = services.settings.bcrypt_rounds
    async with services.db.session() as session:
        user = await get_user_by_email(session, email=body.email)
    password_hash = user.password_hash if user else None
    matches = await verify_password(body.password, password_hash, rounds=rounds)
    if user is None or not matches:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "incorrect e-mail or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if password_hash and needs_rehash(password_hash, rounds=rounds):
        remade = await hash_password(body.password, rounds=rounds)
        async with services.db.session() as session:
            stored = await get_user(session, user_id=user.id)
            if stored is not None and stored.password_hash == password_hash:
                stored.password_hash = remade
                await session.commit()
    return TokenPublic(
        access_token=services.tokens.issue(user.id), expires_in=services.tokens.expires_in
    )


@router.get("/me", response_model=UserPublic)
async def me(user: CurrentUser) -> UserPublic:
    """The signed-in user."""
    return UserPublic.model_validate(user)


@router.post("/media-cookie", status_code=status.HTTP_204_NO_CONTENT)
async def media_cookie(request: Request, user: CurrentUser, services: ServicesDep) -> Response:
    """Sets an HttpOnly cookie that lets the browser's `<audio>` elements stream your
    recordings (they cannot send the bearer token); it opens nothing but the media routes."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    token = services.tokens.issue(user.id, kind="media")
    set_media_cookie(response, request, token, services.tokens.expires_in)
    return response


@router.delete("/media-cookie", status_code=status.HTTP_204_NO_CONTENT)
async def forget_media_cookie() -> Response:
    """Clears the media cookie (on signing out)."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_media_cookie(response)
    return response
