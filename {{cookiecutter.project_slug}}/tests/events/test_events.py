"""The event stream over a real server: who hears what, resuming, revocation, caps, slow clients."""

import asyncio
import contextlib
import json
import signal
import socket
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.core.config import Settings
from app.main import create_app
from app.server import end_streams_on_exit
from tests.events.conftest import (
    EVENTS,
    WAIT_SECONDS,
    Account,
    EventStream,
    Served,
    open_stream,
    rename,
    serve,
    sign_up,
)
from tests.urls import LOGOUT_ALL{% if cookiecutter.example_resource %}, url_for

ITEMS = url_for("list_items")
{%- endif %}


async def next_account_event(stream: EventStream) -> dict[str, Any]:
    event = await stream.next()
    assert event.event == "account.updated"
    assert event.id is not None
    data: dict[str, Any] = event.data
    return data


async def test_a_user_hears_their_own_changes_and_never_another_users(served: Served) -> None:
    alice, bob = await sign_up(served), await sign_up(served)
    async with (
        open_stream(served.base_url, alice) as alices,
        open_stream(served.base_url, bob) as bobs,
    ):
        await rename(served, alice, "Alice One")
        await rename(served, bob, "Bob One")
        assert (await next_account_event(alices))["full_name"] == "Alice One"
        # Bob's first event is his own: Alice's change, published before it, never reached him.
        bobs_first = await next_account_event(bobs)
        assert (bobs_first["id"], bobs_first["full_name"]) == (bob.id, "Bob One")
{%- if cookiecutter.example_resource %}


async def test_the_owner_hears_an_item_created_updated_and_deleted(served: Served) -> None:
    alice, bob = await sign_up(served), await sign_up(served)
    async with (
        open_stream(served.base_url, alice) as alices,
        open_stream(served.base_url, bob) as bobs,
        httpx.AsyncClient(base_url=served.base_url, headers=alice.headers) as client,
    ):
        created = (await client.post(ITEMS, json={"title": "Draft"})).json()
        item = url_for("read_item", item_id=created["id"])
        assert (await client.patch(item, json={"title": "Final"})).status_code == 200
        assert (await client.delete(item)).status_code == 204
        heard = [await alices.next() for _ in range(3)]
        await rename(served, bob, "Bob")
        assert (await bobs.next()).event == "account.updated"  # and nothing of Alice's first
    assert [(event.event, event.data["title"]) for event in heard] == [
        ("item.created", "Draft"),
        ("item.updated", "Final"),
        ("item.deleted", "Final"),
    ]
    assert {event.data["id"] for event in heard} == {created["id"]}
    ids = [event.id for event in heard]
    assert len(set(ids)) == 3, ids


async def test_a_rolled_back_write_is_never_announced(served: Served) -> None:
    alice = await sign_up(served)
    async with (
        open_stream(served.base_url, alice) as alices,
        httpx.AsyncClient(base_url=served.base_url, headers=alice.headers) as client,
    ):
        refused = await client.post(ITEMS, json={"title": "x" * 10_000})
        assert refused.status_code == 422
        await rename(served, alice, "After")
        assert (await alices.next()).event == "account.updated"
{%- endif %}


async def test_a_reconnect_with_last_event_id_gets_what_it_missed(served: Served) -> None:
    alice = await sign_up(served)
    async with open_stream(served.base_url, alice) as stream:
        await rename(served, alice, "Seen")
        seen = await stream.next()
    await rename(served, alice, "Missed 1")
    await rename(served, alice, "Missed 2")
    async with open_stream(served.base_url, alice, last_event_id=seen.id) as stream:
        replayed = [await stream.next(), await stream.next()]
        await rename(served, alice, "Live")
        live = await stream.next()
    assert [event.data["full_name"] for event in [*replayed, live]] == [
        "Missed 1",
        "Missed 2",
        "Live",
    ]


async def test_a_last_event_id_outside_the_window_says_so(
    events_settings: Callable[..., Settings],
) -> None:
    async with serve(create_app(events_settings(events_replay_size=2))) as served:
        alice = await sign_up(served)
        async with open_stream(served.base_url, alice) as stream:
            await rename(served, alice, "Old")
            old = await stream.next()
        for n in range(3):
            await rename(served, alice, f"New {n}")
        async with open_stream(served.base_url, alice, last_event_id=old.id) as stream:
            assert (await stream.next()).event == "replay_gap"
            kept = [(await stream.next()).data["full_name"] for _ in range(2)]
    assert kept == ["New 1", "New 2"]


async def test_idle_streams_get_heartbeats(served: Served) -> None:
    alice = await sign_up(served)
    async with open_stream(served.base_url, alice) as stream:
        for _ in range(2):
            await stream.next_heartbeat(within=5)


async def socket_for(served: Served, account: Account | None, **extra: str) -> ClientConnection:
    url = served.base_url.replace("http://", "ws://") + f"{EVENTS}/ws"
    websocket = await connect(url, open_timeout=WAIT_SECONDS)
    if account is not None:
        await websocket.send(json.dumps({"type": "auth", "token": account.token, **extra}))
    return websocket


async def receive(websocket: ClientConnection) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(websocket.recv(), WAIT_SECONDS))
        if message["type"] != "heartbeat":
            return message


async def close_code(websocket: ClientConnection) -> int | None:
    """Reads until the server closes the socket; the code it closed with."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(WAIT_SECONDS):
            async for _ in websocket:
                pass
    return websocket.close_code


async def test_the_websocket_carries_the_same_events_and_answers_pings(served: Served) -> None:
    alice = await sign_up(served)
    async with await socket_for(served, alice) as websocket:
        assert await receive(websocket) == {"type": "ready"}
        await websocket.send(json.dumps({"type": "ping"}))
        assert await receive(websocket) == {"type": "pong"}
        await rename(served, alice, "Over the socket")
        event = await receive(websocket)
    assert (event["type"], event["event"]) == ("event", "account.updated")
    assert event["data"]["full_name"] == "Over the socket"


async def test_the_websocket_refuses_a_bad_or_late_token(served: Served) -> None:
    bad = Account(id="", email="", token="not-a-token")
    async with await socket_for(served, bad) as websocket:
        assert await close_code(websocket) == 4401
    async with await socket_for(served, None) as websocket:  # never says who it is
        assert await close_code(websocket) == 4408


async def test_revocation_closes_the_stream_and_the_socket(served: Served) -> None:
    alice = await sign_up(served)
    async with (
        open_stream(served.base_url, alice) as stream,
        await socket_for(served, alice) as websocket,
    ):
        assert await receive(websocket) == {"type": "ready"}
        async with httpx.AsyncClient(base_url=served.base_url) as client:
            logged_out = await client.post(LOGOUT_ALL, headers=alice.headers)
            assert logged_out.status_code == 204
        closed = await stream.next()  # within one heartbeat (0.5 s here)
        assert (closed.event, closed.data) == ("close", {"reason": "token"})
        assert await close_code(websocket) == 4401


async def test_streams_past_the_caps_are_refused_with_the_envelope(
    events_settings: Callable[..., Settings],
) -> None:
    settings = events_settings(events_max_streams_per_user=1)
    async with serve(create_app(settings)) as served:
        alice = await sign_up(served)
        async with (
            open_stream(served.base_url, alice),
            httpx.AsyncClient(base_url=served.base_url) as client,
        ):
            refused = await client.get(EVENTS, headers=alice.headers)
            async with await socket_for(served, alice) as websocket:
                assert await close_code(websocket) == 4429
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "TOO_MANY_STREAMS"
    assert refused.json()["error"]["details"] == {"cap": "user"}


async def scrape(served: Served) -> str:
    """The served app's /metrics (loopback is a private network: allowed by default)."""
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        response = await client.get("/metrics")
        assert response.status_code == 200
        return response.text


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def test_a_stalled_consumer_is_dropped_and_memory_stays_bounded(
    events_settings: Callable[..., Settings],
) -> None:
    async with serve(create_app(events_settings(events_queue_size=8))) as served:
        alice = await sign_up(served)
        hub = served.app.state.events
        host, port = served.base_url.removeprefix("http://").split(":")
        # A client that sends its request and then never reads: a small receive buffer, so the
        # server's writes back up quickly.
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(stalled, (host, int(port)))
        request = (
            f"GET {EVENTS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {alice.token}\r\n\r\n"
        )
        await loop.sock_sendall(stalled, request.encode())
        async with asyncio.timeout(WAIT_SECONDS):
            # The hub counts its streams; it has no event to wait for.
            while not hub.open_streams:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        before = resident_bytes()
        payload = {"blob": "x" * 65_536}
        published = 0
        async with asyncio.timeout(WAIT_SECONDS * 3):
            while hub.open_streams and published < 2000:  # 2000 x 64 KiB: 128 MiB if kept
                await hub.publish(uuid.UUID(alice.id), "test.large", payload)
                published += 1
                await asyncio.sleep(0)
        grown = resident_bytes() - before
        stalled.close()
        metrics = await scrape(served)
    assert 'event_streams_closed_total{reason="slow_consumer"}' in metrics
    assert 'event_streams_open{transport="sse"} 0.0' in metrics
    assert not hub.open_streams, f"still subscribed after {published} events"
    assert published < 2000
    assert grown < 32 * 1024 * 1024, f"grew {grown} bytes while {published} events were published"


async def test_shutdown_ends_every_stream_with_a_close_event(
    events_settings: Callable[..., Settings],
) -> None:
    app = create_app(events_settings())
    async with serve(app) as served:
        alice = await sign_up(served)
        async with open_stream(served.base_url, alice) as stream:
            previous = signal.signal(signal.SIGTERM, lambda *_: None)  # uvicorn's, in a server
            try:
                end_streams_on_exit(app)  # what app.server.serve does
                signal.raise_signal(signal.SIGTERM)
                closed = await stream.next()
            finally:
                signal.signal(signal.SIGTERM, previous)
        async with httpx.AsyncClient(base_url=served.base_url) as client:
            refused = await client.get(EVENTS, headers=alice.headers)
    assert (closed.event, closed.data) == ("close", {"reason": "shutdown"})
    assert refused.status_code == 429  # no new stream while the server stops
