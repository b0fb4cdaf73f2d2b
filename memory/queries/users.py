"""User queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from memory.models import User


class EmailTaken(Exception):
    """Another account already uses this e-mail address."""


async def create_user(session: AsyncSession, *, email: str, password_hash: str) -> User:
    """Inserts a user; raises `EmailTaken` if the address is in use."""
    user = User(email=email, password_hash=password_hash)
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise EmailTaken(email) from exc
    return user


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The user with this (lower-cased) e-mail, if any."""
    return await session.scalar(select(User).where(User.email == email))


async def get_user(session: AsyncSession, *, user_id: str) -> User | None:
    """The user with this id, if any."""
    return await session.get(User, user_id)
