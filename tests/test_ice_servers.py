"""ICE servers (ICE_SERVERS): parsed and refused with a clear message, used by the server's
own peer connections (a real offer gathers through a STUN and a TURN server), and handed to
the session's trainee only; with TURN_SECRET, TURN credentials are minted per caller in
coturn's time-limited scheme, and a relay checking that scheme grants them until they expire
and never a forged one."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from pydantic import ValidationError

from memory.ice_servers import (
    TURN_CREDENTIAL_TTL_SECONDS,
    IceServer,
    IceServersError,
    parse_ice_servers,
    turn_credentials,
)
from memory.settings import Settings
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.training import seed_ready_champion, start_training
from tests.support.turn_server import TurnServer
from tests.support.webrtc_client import CallClient

PUBLIC = ("203.0.113.7", 40_001)  # what the STUN server says the app is seen as
RELAY = ("198.51.100.9", 50_002)  # the relayed address the TURN server allocates
SECRET = "north-relay-secret-2026"  # TURN_SECRET, shared by the app and the relay


def test_urls_parse_with_percent_encoded_credentials() -> None:
    servers = parse_ice_servers(
        " stun:stun.example.com:3478 , turn:user%40team:p%3Ass%2Cw@turn.example.com:3478"
        "?transport=udp,turns:u:p@turn.example.com:5349?transport=tcp,,"
    )
    assert servers == [
        IceServer(urls="stun:stun.example.com:3478"),
        IceServer("turn:turn.example.com:3478?transport=udp", "user@team", "p:ss,w"),
        IceServer("turns:turn.example.com:5349?transport=tcp", "u", "p"),
    ]
    assert parse_ice_servers("") == parse_ice_servers(" , ") == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://turn.example.com", "entry 1 is not a stun:"),
        ("stun:a.example.com,turn:b.example.com:3478", "entry 2 is a TURN server without"),
        ("stun:user:secret-pw@a.example.com", "is a STUN server with credentials"),
        ("stun:a.example.com?transport=udp", "is a STUN server with a transport"),
        ("turns:u:secret-pw@a.example.com?transport=udp", "TLS runs on tcp"),
        ("turn:u:secret-pw@a.example.com:70000", "port outside 1-65535"),
        ("turn:u:secret-pw@a.example.com?transport=sctp", "is not a stun:"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_never_the_password(
    value: str, problem: str
) -> None:
    with pytest.raises(IceServersError) as parsed:
        parse_ice_servers(value)
    assert problem in str(parsed.value)
    assert "secret-pw" not in str(parsed.value)
    with pytest.raises(ValidationError) as loaded:
        Settings(_env_file=None, ice_servers=value)  # type: ignore[call-arg]
    message = loaded.value.errors()[0]["msg"]
    assert "ICE_SERVERS" in message and problem in message
    assert "secret-pw" not in message


def test_credentials_are_minted_in_coturns_time_limited_format() -> None:
    username, password = turn_credentials(SECRET, "alice", now=1_700_000_000.7)
    # coturn's use-auth-secret: "<expiry>:<user id>", base64(HMAC-SHA1(secret, username));
    # the expected password was computed with openssl (dgst -sha1 -hmac, base64).
    assert username == f"{1_700_000_000 + TURN_CREDENTIAL_TTL_SECONDS}:alice" == "1700003600:alice"
    assert password == "Qk5A0Ai5IyfaxD+8HaHEmRr5+Dc="
    assert turn_credentials(SECRET, "bob", now=1_700_000_000)[0] == "1700003600:bob"
    with pytest.raises(ValueError, match="free of ':'"):
        turn_credentials(SECRET, "al:ice", now=1_700_000_000)


def test_turn_secret_lets_turn_entries_come_without_credentials() -> None:
    ice = "stun:turn.example.com:3478,turn:turn.example.com:3478?transport=udp,turn:u:p@b.example"
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, ice_servers=ice)  # type: ignore[call-arg]
    message = refused.value.errors()[0]["msg"]
    assert "ICE_SERVERS entry 2" in message and "TURN_SECRET" in message

    settings = Settings(_env_file=None, ice_servers=ice, turn_secret=SECRET)  # type: ignore[call-arg]
    assert settings.ice_server_list[1] == IceServer("turn:turn.example.com:3478?transport=udp")
    alice = settings.ice_servers_for("alice")
    assert alice[0] == IceServer("stun:turn.example.com:3478")
    assert re.fullmatch(r"\d+:alice", str(alice[1].username)) and alice[1].credential
    assert alice[2] == IceServer("turn:b.example", "u", "p")  # static credentials stay
    assert SECRET not in repr(settings)
    # Without TURN_SECRET static credentials are handed out as before.
    static = Settings(_env_file=None, ice_servers="turn:u:p@b.example")  # type: ignore[call-arg]
    assert static.ice_servers_for("alice") == [IceServer("turn:b.example", "u", "p")]


def test_a_short_turn_secret_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, turn_secret="short-s3cret")  # type: ignore[call-arg]
    assert "TURN_SECRET must be at least 16 characters" in str(refused.value)
    assert "short-s3cret" not in str(refused.value)


@pytest.fixture
async def turn_server() -> AsyncIterator[TurnServer]:
    server = TurnServer(PUBLIC, RELAY, username="trainee:relay", password="pa:ss@w0rd")
    await server.start()
    yield server
    server.close()


@pytest.fixture
async def secret_turn_server() -> AsyncIterator[TurnServer]:
    server = await TurnServer(PUBLIC, RELAY, secret=SECRET).start()
    yield server
    server.close()


async def _gathered_sdp(servers: list[dict[str, Any]]) -> str:
    """The offer a WebRTC peer (aiortc, as a browser would) makes through these servers."""
    config = RTCConfiguration(iceServers=[RTCIceServer(**server) for server in servers])
    pc = RTCPeerConnection(config)
    try:
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp
    finally:
        await pc.close()


RELAYED = f"{RELAY[0]} {RELAY[1]} typ relay"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_servers_peer_connection_gathers_through_the_configured_servers(
    make_settings: Callable[..., Settings], turn_server: TurnServer
) -> None:
    port = turn_server.port
    ice = f"stun:127.0.0.1:{port},turn:trainee%3Arelay:pa%3Ass%40w0rd@127.0.0.1:{port}"
    async with running_app(make_settings(ice_servers=ice)) as (app, client):
        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        session_id = (await start_training(client, auth, champion_id)).json()["session_id"]
        call = CallClient()  # the trainee's side has no ICE servers: all it learns is the app's
        try:
            answer = await client.post(
                f"/training/sessions/{session_id}/offer", headers=auth, json=await call.offer()
            )
            assert answer.status_code == 200, answer.text
            sdp = answer.json()["sdp"]
            # The STUN server's view of the app, and the TURN server's relay (granted only
            # for the configured, percent-decoded credentials), are offered to the browser.
            assert f"{PUBLIC[0]} {PUBLIC[1]} typ srflx" in sdp
            assert f"{RELAY[0]} {RELAY[1]} typ relay" in sdp
            assert turn_server.bindings >= 1
            assert turn_server.allocations == ["trainee:relay"]
            assert turn_server.refused == 0
        finally:
            await call.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_only_the_sessions_trainee_is_given_the_servers(
    make_settings: Callable[..., Settings],
) -> None:
    ice = "stun:stun.example.com:3478,turn:champion:s3cret-relay@turn.example.com:3478"
    async with running_app(make_settings(ice_servers=ice)) as (app, client):
        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        session_id = (await start_training(client, auth, champion_id)).json()["session_id"]
        path = f"/training/sessions/{session_id}/ice-servers"

        given = await client.get(path, headers=auth)
        assert given.status_code == 200, given.text
        assert given.headers["cache-control"] == "no-store"
        assert given.json() == {
            "ice_servers": [
                {"urls": "stun:stun.example.com:3478"},
                {
                    "urls": "turn:turn.example.com:3478",
                    "username": "champion",
                    "credential": "s3cret-relay",
                },
            ]
        }

        anonymous = await client.get(path)
        stranger = await client.get(path, headers=await sign_up(client))
        assert (anonymous.status_code, stranger.status_code) == (401, 404)
        assert "s3cret-relay" not in anonymous.text + stranger.text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_each_trainee_gets_their_own_expiring_credentials_the_relay_accepts(
    make_settings: Callable[..., Settings], secret_turn_server: TurnServer
) -> None:
    relay = secret_turn_server
    ice = f"stun:127.0.0.1:{relay.port},turn:127.0.0.1:{relay.port}"
    async with running_app(make_settings(ice_servers=ice, turn_secret=SECRET)) as (app, client):
        given: dict[str, dict[str, Any]] = {}
        for name in ("alice", "bob"):
            auth = await sign_up(client)
            user_id = await current_user_id(client, auth)
            champion_id = await seed_ready_champion(app, user_id)
            session_id = (await start_training(client, auth, champion_id)).json()["session_id"]
            minted_from = int(time.time())
            answer = await client.get(f"/training/sessions/{session_id}/ice-servers", headers=auth)
            assert answer.status_code == 200, answer.text
            assert answer.headers["cache-control"] == "no-store"
            assert SECRET not in answer.text
            stun, turn = answer.json()["ice_servers"]
            assert stun == {"urls": f"stun:127.0.0.1:{relay.port}"}
            expiry, owner = turn["username"].split(":")
            assert owner == user_id
            lifetime = int(expiry) - minted_from
            assert TURN_CREDENTIAL_TTL_SECONDS - 5 <= lifetime <= TURN_CREDENTIAL_TTL_SECONDS
            given[name] = turn
        assert given["alice"]["credential"] != given["bob"]["credential"]

        # A browser's relay allocation with alice's credentials is granted, for her.
        alice = given["alice"]
        assert RELAYED in await _gathered_sdp([alice])
        assert relay.allocations == [alice["username"]]

        # Pushing the expiry forward breaks the signature: refused.
        expiry, owner = alice["username"].split(":")
        forged = {**alice, "username": f"{int(expiry) + 86_400}:{owner}"}
        assert RELAYED not in await _gathered_sdp([forged])
        assert relay.refused == 1

        # A correctly signed credential whose time has passed: refused for its expiry.
        username, password = turn_credentials(
            SECRET, owner, now=time.time() - 2 * TURN_CREDENTIAL_TTL_SECONDS
        )
        stale = {"urls": alice["urls"], "username": username, "credential": password}
        assert RELAYED not in await _gathered_sdp([stale])
        assert relay.expired == 1
        assert relay.allocations == [alice["username"]]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_servers_peer_connection_relays_with_credentials_minted_for_the_call(
    make_settings: Callable[..., Settings], secret_turn_server: TurnServer
) -> None:
    relay = secret_turn_server
    ice = f"turn:127.0.0.1:{relay.port}?transport=udp"
    async with running_app(make_settings(ice_servers=ice, turn_secret=SECRET)) as (app, client):
        auth = await sign_up(client)
        user_id = await current_user_id(client, auth)
        champion_id = await seed_ready_champion(app, user_id)
        session_id = (await start_training(client, auth, champion_id)).json()["session_id"]
        call = CallClient()
        try:
            answer = await client.post(
                f"/training/sessions/{session_id}/offer", headers=auth, json=await call.offer()
            )
            assert answer.status_code == 200, answer.text
            assert RELAYED in answer.json()["sdp"]
            assert len(relay.allocations) == 1
            assert re.fullmatch(rf"\d+:{user_id}", relay.allocations[0])
            assert (relay.refused, relay.expired) == (0, 0)
        finally:
            await call.close()
