"""Bad answers stop the bake before anything is written: one clear line, exit 1, no folder."""

from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from pytest_cookies.plugin import Cookies

from tests.helpers import TEMPLATE_ROOT


def assert_nothing_left(tmp_path: Path) -> None:
    # pytest-cookies bakes into <tmp>/cookies/bakeNN; a refused bake leaves that folder empty.
    leftovers = [
        path for bake_dir in (tmp_path / "cookies").iterdir() for path in bake_dir.iterdir()
    ]
    assert leftovers == []


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            {"project_name": "Agt Bad", "project_slug": "Agt_Bad"},
            "ERROR: project_slug 'Agt_Bad' is not a lowercase Python identifier",
        ),
        (
            {"project_name": "Agt Bad", "project_slug": "fastapi"},
            "ERROR: project_slug 'fastapi' would shadow the module 'fastapi'",
        ),
        ({"project_name": "  ", "project_slug": "agt_blank"}, "ERROR: project_name is empty"),
        (
            {"project_name": "Agt Bad", "author_email": "agt@nowhere"},
            "ERROR: author_email 'agt@nowhere' is not an email address",
        ),
        (
            {"project_name": "Agt Bad", "description": 'Say "hi"'},
            "ERROR: description contains a double quote",
        ),
        (
            {"project_name": "Agt Bad", "project_slug": "agt_" + "x" * 44},
            "ERROR: project_slug is too long for database=postgresql",
        ),
        (
            {"project_name": "Agt Bad", "background_jobs": "taskiq"},
            "ERROR: background_jobs=taskiq queues jobs in Redis: also answer rate_limit_storage=redis",
        ),
    ],
    ids=[
        "slug-not-identifier",
        "slug-shadows-module",
        "empty-name",
        "bad-email",
        "quote",
        "long-slug",
        "taskiq-without-redis",
    ],
)
def test_bad_answer_is_refused_and_leaves_nothing(
    cookies: Cookies,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    answers: dict[str, Any],
    message: str,
) -> None:
    result = cookies.bake(extra_context=answers, template=str(TEMPLATE_ROOT))
    assert result.exit_code == -1
    assert isinstance(result.exception, FailedHookException)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, errors
    assert errors[0].startswith(message)
    assert_nothing_left(tmp_path)


def test_unsupported_python_is_refused_before_the_hooks(cookies: Cookies, tmp_path: Path) -> None:
    # A choice outside its list never reaches pre_gen_project (its check is unit-tested).
    result = cookies.bake(
        extra_context={"project_name": "Agt Py", "python_version": "3.9"},
        template=str(TEMPLATE_ROOT),
    )
    assert isinstance(result.exception, ValueError)
    assert "3.9" in str(result.exception)
    assert_nothing_left(tmp_path)
