"""The app uvicorn serves: `uvicorn --factory app.server:serve`.

Builds the app from the environment (exiting with one line on a bad setting) and tunes the
garbage collector for a long-lived server: what is alive once the app is built (the imported
libraries, the routes, the settings) is taken out of every collection, and young collections
run less often, so reference counting frees a request's objects before a collection looks at
them. Cycles are still collected, in fewer and larger batches. PERFORMANCE.md has the numbers.
Tests and tools import `app.main.create_app` and keep Python's defaults.
{%- if cookiecutter.realtime == "yes" %}

uvicorn stops only once every response has ended, and an event stream never ends by itself: on
SIGTERM or SIGINT the hub first ends every stream (each gets its `close` event), so the server
stops at once instead of waiting for --timeout-graceful-shutdown to cut them off.
{%- endif %}
"""

{% if cookiecutter.realtime == "yes" -%}
import asyncio
{% endif -%}
import gc
{%- if cookiecutter.realtime == "yes" %}
import signal
from types import FrameType
{%- endif %}

from fastapi import FastAPI

from app.core.config import settings_or_exit
from app.main import create_app

YOUNG_GENERATION_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    gc.collect()  # garbage made while starting is freed, not frozen with the rest
    gc.freeze()
    _, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *older)


def serve() -> FastAPI:
    settings = settings_or_exit()
    served = create_app(settings)
    if settings.gc_tuning_enabled:
        tune_garbage_collector()  # after the app: all of it lives until exit
{%- if cookiecutter.realtime == "yes" %}
    end_streams_on_exit(served)
{%- endif %}
    return served
{%- if cookiecutter.realtime == "yes" %}


def end_streams_on_exit(app: FastAPI) -> None:
    """Chains the hub's shutdown in front of uvicorn's own SIGTERM and SIGINT handlers.

    uvicorn builds the app inside its running loop, after installing those handlers.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # built outside a server: nothing to stop
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(number)

        def handle(signum: int, frame: FrameType | None, previous: object = previous) -> None:
            loop.call_soon_threadsafe(app.state.events.shutdown)
            if callable(previous):
                previous(signum, frame)

        signal.signal(number, handle)
{%- endif %}
