import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator

import pytest

from app.server import YOUNG_GENERATION_THRESHOLD, tune_garbage_collector
from tests.conftest import PROJECT_ROOT


@pytest.fixture
def python_defaults() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("python_defaults")
def test_startup_objects_are_frozen_and_young_collections_are_rarer() -> None:
    older = gc.get_threshold()[1:]
    tune_garbage_collector()
    assert gc.get_freeze_count() > 10_000  # the imported libraries, at the very least
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *older)


@pytest.mark.usefixtures("python_defaults")
def test_cycles_are_still_collected_without_being_asked() -> None:
    tune_garbage_collector()
    collected: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["collected"])

    gc.callbacks.append(note)
    try:
        first = _cycle()
        for _ in range(YOUNG_GENERATION_THRESHOLD):  # twice the threshold in uncollected objects
            _cycle()
    finally:
        gc.callbacks.remove(note)
    assert sum(collected) > 0
    assert first() is None


class _Node:
    partner: "_Node"


def _cycle() -> weakref.ref[_Node]:
    """Two objects that only reference counting cannot free; a reference to watch one."""
    first, second = _Node(), _Node()
    first.partner, second.partner = second, first
    return weakref.ref(first)


def test_the_served_app_tunes_the_collector_and_tests_do_not() -> None:
    assert gc.get_threshold()[0] != YOUNG_GENERATION_THRESHOLD
    script = "import gc, app.server; app.server.serve(); print(gc.get_threshold()[0], gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ENVIRONMENT": "local"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    threshold, frozen = map(int, result.stdout.split())
    assert threshold == YOUNG_GENERATION_THRESHOLD
    assert frozen > 0
