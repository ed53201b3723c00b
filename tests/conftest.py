"""Fixtures that bake projects once per session and share one virtualenv between them."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_cookies.plugin import Cookies

from tests.helpers import TEMPLATE_ROOT, shared_venv
from tests.variants import variant_named

Baker = Callable[..., Path]


@pytest.fixture(scope="session")
def bake(cookies_session: Cookies) -> Baker:
    """Bakes with the given answers and returns the project folder (fails on any error)."""

    def _bake(**answers: Any) -> Path:
        result = cookies_session.bake(extra_context=answers, template=str(TEMPLATE_ROOT))
        assert result.exception is None, result.exception
        assert result.exit_code == 0
        path: Path = result.project_path
        return path

    return _bake


@pytest.fixture(scope="session")
def default_project(bake: Baker) -> Path:
    return bake(**variant_named("default").bake_answers())


@pytest.fixture(scope="session")
def venv(default_project: Path) -> Path:
    return shared_venv(default_project)
