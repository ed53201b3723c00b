"""The signed-in user's events, live: server-sent events at GET /events, a WebSocket at /events/ws.

Both carry the same events (`item.created`, `account.updated` ...) from app/events/. The
WebSocket's protocol and close codes are in SECURITY.md ("Realtime events").
"""

import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, WebSocket, WebSocketDisconnect
from fastapi.sse import EventSourceResponse, format_sse_event

from app.api.deps import EventStreamDep, signed_in_principal, still_signed_in
from app.core.exceptions import TooManyStreamsError, UnauthorizedError
from app.events.hub import Closed, Event, EventHub, Heartbeat, ReplayGap, Subscription
from app.http.responses import error_responses

router = APIRouter(prefix="/events", tags=["events"])
socket_router = APIRouter(prefix="/events", tags=["events"])

# What FastAPI's own SSE responses say: no caching, and no buffering in nginx.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT = format_sse_event(comment="heartbeat")
REPLAY_GAP = format_sse_event(
    data_str='{"reason": "outside the replay window"}', event="replay_gap"
)
STREAM_DOC: dict[str, Any] = {
    "description": "The event stream: `event`, `data` (JSON), `id` per event",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}
# How long a closing handshake may take; a client that stopped reading does not answer at all.
CLOSE_TIMEOUT_SECONDS = 1.0
# WebSocket close codes (SECURITY.md): the 4xxx ones mirror the HTTP status they stand for.
CLOSE_CODES = {
    "token": 4401,  # missing, invalid, expired or revoked token; a deactivated account
    "auth_timeout": 4408,  # no auth message in time
    "too_many_streams": 4429,  # EVENTS_MAX_STREAMS_PER_USER / _PER_INSTANCE reached
    "slow_consumer": 4409,  # fell EVENTS_QUEUE_SIZE events behind
    "shutdown": 1001,  # the server is stopping: reconnect (to another instance)
}


# Not response_class=EventSourceResponse: FastAPI then wraps the endpoint as a generator of
# items; this one returns the response itself (see _encoded).
@router.get("", responses={200: STREAM_DOC, **error_responses(401, 429, 503)})
async def stream_events(
    stream: EventStreamDep,
    last_event_id: Annotated[str | None, Header(description="Resume after this event")] = None,
) -> EventSourceResponse:
    """Your events as server-sent events; each has an id to resume from with Last-Event-ID.

    Comments (`: heartbeat`) keep proxies from closing an idle stream. The server ends the
    stream with an `event: close` naming why: `token` (expired or revoked: sign in again),
    `slow_consumer` or `shutdown` (reconnect).
    """
    items = stream.hub.stream(stream.subscription, last_event_id, stream.still_allowed)
    return EventSourceResponse(_encoded(items), headers=SSE_HEADERS)


async def _encoded(
    items: AsyncIterator[Event | Heartbeat | ReplayGap | Closed],
) -> AsyncIterator[bytes]:
    """FastAPI's SSE wire format, without its per-item generator machinery (two task hops and a
    pydantic model per event and stream): an event's JSON is encoded once for all its streams."""
    async for item in items:
        if isinstance(item, Event):
            yield format_sse_event(data_str=item.data, event=item.type, id=item.id)
        elif isinstance(item, Heartbeat):
            yield HEARTBEAT
        elif isinstance(item, ReplayGap):
            yield REPLAY_GAP
        else:
            yield format_sse_event(data_str=json.dumps({"reason": item.reason}), event="close")


@socket_router.websocket("/ws")
async def events_socket(websocket: WebSocket) -> None:
    """The same events over a WebSocket; the token comes in the first message, never the URL."""
    await websocket.accept()
    hub: EventHub = websocket.app.state.events
    # The first message must be {"type": "auth", "token": "..."}, within the setting's time.
    try:
        with anyio.fail_after(websocket.app.state.settings.events_auth_timeout_seconds):
            hello = await websocket.receive_json()
    except TimeoutError:
        return await _close(websocket, "auth_timeout")
    except (WebSocketDisconnect, ValueError):
        return None
    token = hello.get("token") if isinstance(hello, dict) else None
    if not isinstance(token, str) or hello.get("type") != "auth":
        return await _close(websocket, "token")
    try:
        user = await signed_in_principal(websocket, token)
        subscription = hub.subscribe(user.id, "websocket")
    except UnauthorizedError:
        return await _close(websocket, "token")
    except TooManyStreamsError:
        return await _close(websocket, "too_many_streams")
    try:
        await _serve_socket(websocket, hub, subscription, token, hello.get("last_event_id"))
    finally:
        hub.unsubscribe(subscription)


async def _serve_socket(
    websocket: WebSocket,
    hub: EventHub,
    subscription: Subscription,
    token: str,
    last_event_id: Any,
) -> None:
    resume = last_event_id if isinstance(last_event_id, str) else None
    still_allowed = partial(still_signed_in, websocket, token)
    await websocket.send_json({"type": "ready"})
    reason = "disconnected"
    async with anyio.create_task_group() as tasks:
        subscription.abort = tasks.cancel_scope.cancel
        tasks.start_soon(_answer_pings, websocket, tasks.cancel_scope)
        async for item in hub.stream(subscription, resume, still_allowed):
            if isinstance(item, Closed):
                reason = item.reason
                break
            await websocket.send_text(as_message(item))
        tasks.cancel_scope.cancel()
    if subscription.closed is not None:
        reason = subscription.closed
    if reason != "disconnected":
        await _close(websocket, reason)


async def _answer_pings(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Answers {"type": "ping"} with {"type": "pong"}; ends the socket when the client leaves."""
    try:
        while True:
            message = await websocket.receive_json()
            if isinstance(message, dict) and message.get("type") == "ping":
                await websocket.send_json({"type": "pong"})
    except (WebSocketDisconnect, ValueError):
        scope.cancel()


def as_message(item: Event | Heartbeat | ReplayGap) -> str:
    if isinstance(item, Event):
        return item.message(type="event", id=item.id, event=item.type)
    if isinstance(item, Heartbeat):
        return '{"type": "heartbeat"}'
    return '{"type": "replay_gap"}'


async def _close(websocket: WebSocket, reason: str) -> None:
    with anyio.move_on_after(CLOSE_TIMEOUT_SECONDS):
        await websocket.close(CLOSE_CODES[reason], reason)
