"""ICE servers (ICE_SERVERS): parsed and refused with a clear message, used by the server's
own peer connections (a real offer gathers through a STUN and a TURN server), and handed to
the session's trainee only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import ValidationError

from memory.ice_servers import IceServer, IceServersError, parse_ice_servers
from memory.settings import Settings
from tests.conftest import running_app, sign_up
from tests.test_training_api import _start, _user_id, seed_ready_champion
from tests.turn_server import TurnServer
from tests.webrtc_client import CallClient

PUBLIC = ("203.0.113.7", 40_001)  # what the STUN server says the app is seen as
RELAY = ("198.51.100.9", 50_002)  # the relayed address the TURN server allocates


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


@pytest.fixture
async def turn_server() -> AsyncIterator[TurnServer]:
    server = await TurnServer("trainee:relay", "pa:ss@w0rd", mapped=PUBLIC, relayed=RELAY).start()
    yield server
    server.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_servers_peer_connection_gathers_through_the_configured_servers(
    make_settings: Callable[..., Settings], turn_server: TurnServer
) -> None:
    port = turn_server.port
    ice = f"stun:127.0.0.1:{port},turn:trainee%3Arelay:pa%3Ass%40w0rd@127.0.0.1:{port}"
    async with running_app(make_settings(ice_servers=ice)) as (app, client):
        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await _user_id(client, auth))
        session_id = (await _start(client, auth, champion_id)).json()["session_id"]
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
        champion_id = await seed_ready_champion(app, await _user_id(client, auth))
        session_id = (await _start(client, auth, champion_id)).json()["session_id"]
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
