"""Fixtures that bake projects once per session and share one virtualenv between them."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_cookies.plugin import Cookies

from tests.helpers import (
    RUN_DATABASE_PREFIX,
    TEMPLATE_ROOT,
    drop_databases,
    run_scoped_name,
    shared_venv,
)
from tests.variants import variant_named

Baker = Callable[..., Path]
UV_INDEX_CACHE_SETTINGS = Path(__file__).with_name("uv-index-cache.toml")
# The bakes' locks keep their own cache: a page cached under those settings stays fresh for
# every later uv command that reads the cache, and the developer's own locks must not see that.
BAKE_LOCK_CACHE = TEMPLATE_ROOT / ".cache" / "uv-bake-locks"


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
            baked[key] = bake_locking_from_cached_index_pages(cookies_session, answers)
        return baked[key]

    return _bake


def bake_locking_from_cached_index_pages(cookies: Cookies, answers: dict[str, Any]) -> Path:
    """Bakes with the hook's `uv lock` reading index pages the run has fetched as fresh.

    Against an index that sends no cache lifetime (the registry here), every online lock
    revalidates each of its ~100 pages: seconds a bake, dozens of bakes a run. UV_CONFIG_FILE
    gives the default index a cache lifetime (an hour) instead, so a page is fetched once and the
    locks after it resolve from the same page; what the cache lacks is fetched online as before.
    These locks use a cache of their own (BAKE_LOCK_CACHE): index pages and wheel metadata only,
    the wheels the shared virtualenvs install come from uv's usual cache.
    Not UV_OFFLINE: offline, uv passes over a version whose metadata is not cached and resolves
    to an older one, so two bakes of the same packages could lock different versions.
    The hook's own online path has tests of its own (tests/test_hooks.py).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UV_CONFIG_FILE", str(UV_INDEX_CACHE_SETTINGS))
        patch.setenv("UV_CACHE_DIR", str(BAKE_LOCK_CACHE))
        result = cookies.bake(extra_context=answers, template=str(TEMPLATE_ROOT))
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


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
