"""The bake keeps its own rules: layer contracts in `make lint`, a suite that ignores tuning.

Each test works on a copy of the default bake, so the tests sharing the original see it unchanged.
"""

import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import Baker
from tests.helpers import (
    copy_project,
    passed_count,
    run,
    run_make,
    scratch_database,
    shared_venv,
    venv_tool,
)
from tests.variants import variant_named

# Break one contract each: (file, a line that breaks it, the contract name lint-imports prints).
FORBIDDEN_IMPORTS = [
    pytest.param(
        "app/api/v1/endpoints/users.py",
        "from app.repositories.users import UserRepository  # noqa: F401",
        "Endpoints and dependencies reach data through services, never repositories",
        id="api-imports-a-repository",
    ),
    pytest.param(
        "app/core/security.py",
        "from app.schemas.auth import TokenPair  # noqa: F401",
        "Core is plain Python: no framework, no other app package",
        id="core-imports-a-schema",
    ),
]
FIRST_IMPORT = re.compile(r"^(from|import) ", re.MULTILINE)
# What a developer may well have tuned for their own service; none of it may reach the tests.
HOSTILE_SETTINGS = {
    "RATE_LIMIT_DEFAULT": "100000/minute",
    "RATE_LIMIT_AUTH": "1000/minute",
    "RATE_LIMIT_LOGIN_ACCOUNT": "1000/minute",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "60",
    "REFRESH_TOKEN_EXPIRE_DAYS": "1",
    "CORS_ORIGINS": "https://elsewhere.example.org",
    "LOG_JSON": "true",
    "LOG_LEVEL": "WARNING",
    "ACCESS_LOG": "true",
    "DB_POOL_SIZE": "1",
    "DB_MAX_OVERFLOW": "0",
    "MAX_BODY_BYTES": "2048",
    "DOCS_ENABLED": "false",
    "BCRYPT_ROUNDS": "13",
}
HOSTILE_ENV_FILE = {
    "RATE_LIMIT_DEFAULT": "3/minute",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "1",
    "ENVIRONMENT": "production",
    "DOCS_ENABLED": "false",
}

# On top, what a taskiq bake's developer may have tuned: their Redis, queue, retries, mail login.
HOSTILE_JOB_SETTINGS = {
    "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:1/0",
    "JOBS_QUEUE_NAME": "production:jobs",
    "JOBS_MAX_RETRIES": "0",
    "JOBS_RETRY_DELAY_SECONDS": "60",
    "SMTP_USER": "mailer",
    "SMTP_PASSWORD": "not-the-test-servers",
}


def test_default_bake_make_lint_keeps_every_layer_contract(
    default_project: Path, venv: Path
) -> None:
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    contracts = len(pyproject["tool"]["importlinter"]["contracts"])
    assert contracts >= 7
    result = run_make(default_project, venv, "lint")
    assert f"Contracts: {contracts} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(("relative", "line", "contract"), FORBIDDEN_IMPORTS)
def test_a_forbidden_import_fails_make_lint_naming_the_contract(
    default_project: Path, venv: Path, tmp_path: Path, relative: str, line: str, contract: str
) -> None:
    project = copy_project(default_project, tmp_path)
    module = project / relative
    text = module.read_text()
    first_import = FIRST_IMPORT.search(text)
    assert first_import is not None
    start = first_import.start()
    module.write_text(f"{text[:start]}{line}\n{text[start:]}")
    run_make(project, venv, "format")  # as a developer would before linting
    result = run_make(project, venv, "lint", check=False)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout[-3000:]


def test_default_bake_suite_passes_under_a_hostile_environment_and_env_file(
    default_project: Path, venv: Path, tmp_path: Path
) -> None:
    project = copy_project(default_project, tmp_path)
    with (project / ".env").open("a") as env_file:
        env_file.writelines(f"{name}={value}\n" for name, value in HOSTILE_ENV_FILE.items())
    pytest_bin = venv_tool(venv, "pytest")
    with scratch_database("hostile") as url:
        env = {**HOSTILE_SETTINGS, "TEST_DATABASE_URL": url}
        result = run([pytest_bin, "-q", "-p", "no:cacheprovider"], cwd=project, env=env)
    assert passed_count(result.stdout) >= 200, result.stdout[-2000:]
    print(f"hostile environment: {passed_count(result.stdout)} baked tests passed")  # noqa: T201


def test_taskiq_job_tests_pass_under_a_hostile_environment_and_env_file(
    bake: Baker, tmp_path: Path
) -> None:
    """The broker is built from the environment when imported: the suite must pin it first."""
    baked = bake(**variant_named("taskiq_py313").bake_answers())
    project = copy_project(baked, tmp_path)
    with (project / ".env").open("a") as env_file:
        env_file.writelines(f"{name}={value}\n" for name, value in HOSTILE_ENV_FILE.items())
    pytest_bin = venv_tool(shared_venv(project), "pytest")
    with scratch_database("hostile_jobs") as url:
        env = {**HOSTILE_SETTINGS, **HOSTILE_JOB_SETTINGS, "TEST_DATABASE_URL": url}
        command = [pytest_bin, "-q", "-p", "no:cacheprovider", "tests/jobs"]
        result = run(command, cwd=project, env=env)
    assert passed_count(result.stdout) >= 4, result.stdout[-2000:]
