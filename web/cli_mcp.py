"""`champion-clone mcp --user EMAIL`: the agents' MCP server on stdio, acting for one account.

It opens the same stores as the app. Standard output carries the protocol, so everything
else (logs, errors) goes to standard error.
"""

from __future__ import annotations

from agents.mcp_server import Caller, create_server, serve_stdio
from agents.registry import AgentDeps
from ingest.providers.setup import IngestProviders
from memory.queries.users import get_user_by_email
from memory.session_store import open_session_store
from memory.settings import Settings
from web.services import Storage, log_provider_choices, training_service


class UnknownUser(Exception):
    """No account has the e-mail given with ``--user``."""


async def run_mcp_stdio(settings: Settings, *, user_email: str) -> None:
    """Serves every agent's tools over stdio for the account ``user_email``.

    Raises:
        UnknownUser: no account has that e-mail (nothing is served).
    """
    email = user_email.strip().lower()
    storage = await Storage.open(settings, index_in_memory_if_busy=True)
    try:
        async with storage.db.session() as session:
            user = await get_user_by_email(session, email=email)
        if user is None:
            raise UnknownUser(
                f"no account has the e-mail {email!r}: sign up in the app first "
                "(or give the e-mail of an existing account)"
            )
        storage.providers = IngestProviders.from_settings(settings)
        deps = AgentDeps(
            settings=settings,
            db=storage.db,
            vectors=storage.vectors,
            media=storage.media,
            training=training_service(settings, storage.db, storage.vectors),
            providers=storage.providers,
            sessions=open_session_store(redis_url=settings.redis_url, prefix=settings.redis_prefix),
        )
        log_provider_choices(settings)
        caller = Caller(deps=deps, user_id=user.id)
        await serve_stdio(create_server(lambda _request: caller))
    finally:
        await storage.close()
