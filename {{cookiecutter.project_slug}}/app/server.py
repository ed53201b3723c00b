"""The app uvicorn serves: `uvicorn --factory app.server:serve`.

Builds the app from the environment (exiting with one line on a bad setting) and tunes the
garbage collector for a long-lived server: what is alive once the app is built (the imported
libraries, the routes, the settings) is taken out of every collection, and young collections
run less often, so reference counting frees a request's objects before a collection looks at
them. Cycles are still collected, in fewer and larger batches. PERFORMANCE.md has the numbers.
Tests and tools import `app.main.create_app` and keep Python's defaults.
"""

import gc

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
    return served
