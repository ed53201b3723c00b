"""Fixtures that bake projects once per session and share one virtualenv between them."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_cookies.plugin import Cookies

from tests.helpers import (
    RUN_DATABASE_PREFIX,
    TEMPLATE_ROOT,
    UV,
    drop_databases,
    run,
    run_scoped_name,
    shared_venv,
)
from tests.variants import variant_named

Baker = Callable[..., Path]


@pytest.fixture(scope="session")
def bake(cookies_session: Cookies) -> Baker:
    """Bakes with the given answers and returns the project folder (fails on any error).

    The same answers give the same folder within a worker: the matrix, the agent-file, deployment,
    manifest and scanner tests read the same variants, and a bake costs seconds (its `uv lock`).
    A test that changes a bake works on a copy (tests/helpers.py, copy_project).
    """
    baked: dict[tuple[tuple[str, str], ...], Path] = {}

    def _bake(**answers: Any) -> Path:
        # `Tpl ...` bakes run their suites on the shared server: their databases get the run prefix.
        if "project_name" in answers:
            answers["project_name"] = run_scoped_name(str(answers["project_name"]))
        key = tuple(sorted((name, repr(value)) for name, value in answers.items()))
        if key not in baked:
            baked[key] = bake_locked_from_uvs_cache(cookies_session, answers)
        return baked[key]

    return _bake


def bake_locked_from_uvs_cache(cookies: Cookies, answers: dict[str, Any]) -> Path:
    """Bakes with the hook's `uv lock` resolving from uv's cache (UV_OFFLINE), then online only
    where the cache cannot answer (a fresh machine's first bake of each set of packages).

    Online, against an index that sends no cache lifetime (the registry here), every lock
    revalidates each of its ~100 index pages: seconds a bake, and the tests bake dozens of times. The cache holds the pages the run's first online lock fetched, so later
    locks resolve the same packages the same way (on a machine whose cache is older than the
    index, as old as the cache; a fresh CI machine's cache is filled by the run itself). The
    hook's online path has tests of its own (tests/test_hooks.py).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UV_OFFLINE", "1")
        result = cookies.bake(extra_context=answers, template=str(TEMPLATE_ROOT))
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    project = Path(result.project_path)
    if not (project / "uv.lock").exists():
        run([UV, "lock", "--quiet"], cwd=project, env={"UV_PYTHON_DOWNLOADS": "never"})
    return project


@pytest.fixture(scope="session")
def default_project(bake: Baker) -> Path:
    return bake(**variant_named("default").bake_answers())


@pytest.fixture(scope="session")
def venv(default_project: Path) -> Path:
    return shared_venv(default_project)


DROPPED = pytest.StashKey[str]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Whatever the outcome, drop the databases this run's bakes created (not other runs')."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller cleans up once every worker is done
    try:
        dropped = drop_databases(RUN_DATABASE_PREFIX)
    except OSError as error:  # no server reachable: nothing can have been created on it
        session.config.stash[DROPPED] = f"Databases not cleaned up: {error}"
        return
    session.config.stash[DROPPED] = (
        f"Dropped {len(dropped)} databases this run created ({RUN_DATABASE_PREFIX}*)"
    )


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if DROPPED in config.stash:
        terminalreporter.write_line(config.stash[DROPPED])
