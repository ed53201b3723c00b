{%- if cookiecutter.database == "postgresql" -%}
"""The operator commands; each one that connects fails in one line when the database cannot be
reached, like every other start-up failure."""

import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from app.cli import {% if cookiecutter.background_jobs == "taskiq" %}check_queue, {% endif %}create_superuser
from app.core.config import Settings
from tests.conftest import PROJECT_ROOT, UNREACHABLE_DATABASE_URL
from tests.settings import as_environment

UNKNOWN_HOST_URL = "postgresql+asyncpg://postgres@no-such-host.invalid:5432/none"
{%- else -%}
"""The operator commands."""

import pytest

from app.cli import {% if cookiecutter.background_jobs == "taskiq" %}check_queue, {% endif %}create_superuser
from app.core.config import Settings
{%- endif %}


async def test_superuser_needs_a_password(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await create_superuser(settings.model_copy(update={"first_superuser_password": ""})) == 1
    assert "FIRST_SUPERUSER_PASSWORD" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        (
            {"first_superuser_password": "short"},
            "ERROR: FIRST_SUPERUSER_PASSWORD: String should have at least 8 characters "
            "(the API refuses the same at sign-up)",
        ),
        (
            {"first_superuser_email": "not-an-address"},
            "ERROR: FIRST_SUPERUSER_EMAIL: value is not a valid email address",
        ),
    ],
    ids=["short-password", "bad-email"],
)
async def test_the_admin_follows_the_apis_password_and_email_rules(
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, str],
    refused: str,
) -> None:
    values = {"first_superuser_password": "long enough password", **changes}
    assert await create_superuser(settings.model_copy(update=values)) == 1
    assert capsys.readouterr().err.startswith(refused)
{%- if cookiecutter.database == "postgresql" %}


# Each case: the command, what DATABASE_URL or TEST_DATABASE_URL is set to, and how its one line
# starts ({placeholders} filled in by `places`). One case per failure and per command, not every
# pairing: each start costs seconds.
FAILING_COMMANDS = {
    "create-db-refused": (
        ["-m", "app.cli", "create-db"],
        {"DATABASE_URL": UNREACHABLE_DATABASE_URL},
        "ERROR: nothing accepts connections at 127.0.0.1:9 (DATABASE_URL): start PostgreSQL "
        "there, or set DATABASE_URL to a server that runs",
    ),
    "prune-tokens-unknown-host": (
        ["-m", "app.cli", "prune-tokens"],
        {"DATABASE_URL": UNKNOWN_HOST_URL},
        "ERROR: unknown host 'no-such-host.invalid' in DATABASE_URL: fix the host name",
    ),
    "superuser-missing-database": (
        ["-m", "app.cli", "superuser"],
        {"DATABASE_URL": "{database}_never_created"},
        'ERROR: database "{name}_never_created" does not exist on ',
    ),
    "alembic-wrong-user": (
        ["-m", "alembic", "upgrade", "head"],
        {"DATABASE_URL": "{wrong_user}"},
        "ERROR: PostgreSQL at ",
    ),
    "pytest-refused": (
        ["-m", "pytest", "-p", "no:cacheprovider", "tests/core/test_clock.py"],
        {"TEST_DATABASE_URL": UNREACHABLE_DATABASE_URL},
        "ERROR: nothing accepts connections at 127.0.0.1:9 (TEST_DATABASE_URL): start PostgreSQL "
        "there, or set TEST_DATABASE_URL to a server that runs",
    ),
}


@pytest.fixture(scope="module")
def places(settings: Settings) -> dict[str, str]:
    server = make_url(settings.database_url)
    return {
        "database": settings.database_url,
        "name": str(server.database),
        "wrong_user": server.set(username="no_such_role").render_as_string(hide_password=False),
    }


@pytest.fixture(scope="module")
def failed_commands(settings: Settings, places: dict[str, str]) -> dict[str, tuple[int, list[str]]]:
    """Every command of FAILING_COMMANDS, started at once; (exit status, output lines) of each."""
    env = as_environment(settings) | {"FIRST_SUPERUSER_PASSWORD": "long enough password"}
    started = {
        case: subprocess.Popen(
            [sys.executable, *command],
            cwd=PROJECT_ROOT,
            env=env | {name: value.format(**places) for name, value in variables.items()},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for case, (command, variables, _) in FAILING_COMMANDS.items()
    }
    finished = {}
    for case, process in started.items():
        output, _ = process.communicate(timeout=120)
        finished[case] = (process.returncode, output.splitlines())
    return finished


@pytest.mark.parametrize("case", FAILING_COMMANDS)
def test_a_command_that_cannot_connect_says_why_in_one_line(
    failed_commands: dict[str, tuple[int, list[str]]], places: dict[str, str], case: str
) -> None:
    status, output = failed_commands[case]
    assert status != 0
    assert len(output) == 1, output
    assert output[0].startswith(FAILING_COMMANDS[case][2].format(**places))
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}


async def test_make_worker_stops_in_one_line_when_redis_does_not_answer(settings: Settings) -> None:
    with pytest.raises(SystemExit) as stopped:
        await check_queue(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    line = str(stopped.value)
    assert line.startswith("ERROR: Redis at 127.0.0.1:9 (REDIS_URL) does not answer (")
    assert "\n" not in line


async def test_the_queue_check_passes_when_redis_answers(settings: Settings) -> None:
    await check_queue(settings)
{%- endif %}
