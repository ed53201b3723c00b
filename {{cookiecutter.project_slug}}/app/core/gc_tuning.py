"""Garbage collector settings for the served process (tests and tools keep Python's defaults).

Measured on a paginated list route (50 ORM objects and their schemas per response): one request
holds about 1,300 objects at its peak, so Python's young-generation collection (due every 700
net allocations) ran about twice per request, every tenth of them also scanning the middle
generation, and now and then a full collection walked every object the imports made (SQLAlchemy,
FastAPI and pydantic metadata, none of which will ever be garbage): 300-500 us of CPU per
request, up to a tenth of it. Reference counting frees almost all of a request's objects anyway.

`gc.freeze()` takes what is alive at start-up out of every collection, and a higher young
threshold lets reference counting free a request's objects before a collection looks at them.
Cycles are still collected, in fewer and larger batches.
"""

import gc

YOUNG_GENERATION_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    gc.collect()  # garbage made while starting is freed, not frozen with the rest
    gc.freeze()
    _, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *older)
