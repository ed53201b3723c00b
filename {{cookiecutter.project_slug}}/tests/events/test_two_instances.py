"""Two instances sharing Redis: each event reaches each of its user's streams once, whichever
instance committed it and whichever instance holds the stream."""

from collections.abc import Callable

from app.core.config import Settings
from app.main import create_app
from tests.events.conftest import EventStream, open_stream, rename, serve, sign_up


async def names(stream: EventStream, count: int) -> list[str]:
    return [(await stream.next()).data["full_name"] for _ in range(count)]


async def test_two_instances_deliver_each_event_once(
    events_settings: Callable[..., Settings],
) -> None:
    settings = events_settings()  # one event key prefix: one bus
    async with serve(create_app(settings)) as first, serve(create_app(settings)) as second:
        alice = await sign_up(first)
        async with (
            open_stream(first.base_url, alice) as on_first,
            open_stream(second.base_url, alice) as on_second,
        ):
            await rename(first, alice, "Via first")
            await rename(second, alice, "Via second")
            await rename(first, alice, "Last")
            heard = [await names(on_first, 3), await names(on_second, 3)]
    # A duplicate would have come before "Last".
    assert heard == [["Via first", "Via second", "Last"]] * 2
