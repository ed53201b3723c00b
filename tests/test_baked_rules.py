"""The bake keeps its own rules: layer contracts in `make lint` (the suite that ignores tuned
settings is a matrix row: tests/hostile.py).

Each test works on a copy of the default bake, so the tests sharing the original see it unchanged.
"""

import re
import tomllib
from pathlib import Path

import pytest

from tests.helpers import (
    copy_project,
    run_make,
)

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
