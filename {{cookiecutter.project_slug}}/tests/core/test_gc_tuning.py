import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.gc_tuning import YOUNG_GENERATION_THRESHOLD, tune_garbage_collector

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
def test_cycles_are_still_collected() -> None:
    tune_garbage_collector()

    class Node:
        partner: "Node"

    first, second = Node(), Node()
    first.partner, second.partner = second, first
    del first, second
    assert gc.collect() >= 2


def test_the_served_app_tunes_the_collector_and_tests_do_not() -> None:
    assert gc.get_threshold()[0] != YOUNG_GENERATION_THRESHOLD
    script = (
        "import gc, app.main; app.main.app; print(gc.get_threshold()[0], gc.get_freeze_count())"
    )
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
