"""Whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` the app believes: only the proxies in
``FORWARDED_ALLOW_IPS``.

The client address rate limits count by (`web.deps.client_address`) is the peer's own unless
the peer is one of those proxies; otherwise every forged header value would buy a fresh
budget. The app applies the headers itself, with uvicorn's middleware, so it behaves the same
under any ASGI server run without proxy headers (``champion-clone serve`` runs uvicorn so).
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from memory.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Believes forwarded headers from ``settings.forwarded_allow_ip_list`` only (none when
    empty: the peer is the client)."""
    trusted = settings.forwarded_allow_ip_list
    if trusted:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
