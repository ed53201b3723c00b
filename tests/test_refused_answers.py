"""Bad answers stop the bake before anything is written: one clear line, exit 1, no folder."""

import json
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from pytest_cookies.plugin import Cookies

from tests.helpers import TEMPLATE_ROOT, run, tool


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
            {"project_name": "Agt Bad", "kubernetes": "yes", "docker": "no"},
            "ERROR: kubernetes=yes needs docker=yes",
        ),
    ],
    ids=[
        "slug-not-identifier",
        "slug-shadows-module",
        "empty-name",
        "bad-email",
        "quote",
        "long-slug",
        "kubernetes-without-docker",
    ],
)
def test_bad_answer_is_refused_and_leaves_nothing(
    cookies: Cookies, tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    result = cookies.bake(extra_context=answers, template=str(TEMPLATE_ROOT))
    assert result.exit_code == -1
    # Raised while the questions are asked (answers_extension.py), before any file exists.
    assert isinstance(result.exception, FailedHookException)
    lines = str(result.exception).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(message)
    assert_nothing_left(tmp_path)


def test_refused_slug_prints_one_line_with_a_suggestion_and_no_traceback(tmp_path: Path) -> None:
    cookiecutter = tool("cookiecutter")
    result = run(
        [cookiecutter, "--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE_ROOT)]
        + ["project_name=Agt Bad", "project_slug=3d-print"],
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert (result.stdout + result.stderr).splitlines() == [
        "ERROR: project_slug '3d-print' is not a lowercase Python identifier "
        "(letters, digits and underscores, starting with a letter); try 'service_3d_print'"
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Billing API v2.0", "billing_api_v2_0"),
        ("Café API", "cafe_api"),
        ("3D Print API", "service_3d_print_api"),
    ],
)
def test_slug_derived_from_an_ordinary_name_bakes(cookies: Cookies, name: str, slug: str) -> None:
    result = cookies.bake(extra_context={"project_name": name}, template=str(TEMPLATE_ROOT))
    assert result.exception is None, result.exception
    assert result.project_path.name == slug


def test_unsupported_python_is_refused_before_the_hooks(cookies: Cookies, tmp_path: Path) -> None:
    # While asking, cookiecutter itself refuses a choice outside its list; a replayed one is
    # refused by pre_gen_project (test_replayed_answers_are_checked_like_asked_ones).
    result = cookies.bake(
        extra_context={"project_name": "Agt Py", "python_version": "3.9"},
        template=str(TEMPLATE_ROOT),
    )
    assert isinstance(result.exception, ValueError)
    assert "3.9" in str(result.exception)
    assert_nothing_left(tmp_path)


def test_rebake_keeps_env_and_refuses_to_overwrite_edited_files(tmp_path: Path) -> None:
    cookiecutter = tool("cookiecutter")
    bake = [cookiecutter, "--no-input", "--overwrite-if-exists", "-o", "out", str(TEMPLATE_ROOT)]
    bake.append("project_name=Agt Rebake")
    project = tmp_path / "out" / "agt_rebake"
    # A shell sets PWD to where the command starts; the closing hint is relative to it.
    first = run(bake, cwd=tmp_path, env={"PWD": str(tmp_path)})
    assert "cd out/agt_rebake" in first.stdout
    secret = (project / ".env").read_text()

    again = run(bake, cwd=tmp_path)
    assert "Kept the existing .env" in again.stdout
    assert (project / ".env").read_text() == secret

    (project / "app" / "main.py").write_text("# mine\n")
    refused = run(bake, cwd=tmp_path, check=False)
    assert refused.returncode == 1
    (line,) = (refused.stdout + refused.stderr).splitlines()  # one line, no traceback
    assert line.startswith(f"ERROR: {project} has changes since it was baked: app/main.py;")
    assert (project / "app" / "main.py").read_text() == "# mine\n"

    forced = run(bake, cwd=tmp_path, env={"OVERWRITE_EDITED": "1"})
    assert "WARNING:" in forced.stdout
    assert (project / "app" / "main.py").read_text() != "# mine\n"
    assert (project / ".env").read_text() == secret


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"database": "oracle"}, "ERROR: database='oracle' is not one of its choices: postgresql"),
        ({"project_slug": "Agt Bad!"}, "ERROR: project_slug 'Agt Bad!' is not a lowercase Python"),
    ],
    ids=["choice-not-offered", "slug-not-identifier"],
)
def test_replayed_answers_are_checked_like_asked_ones(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    """`--replay-file` skips the questions (and cookiecutter's choice check): the hook refuses,
    in its own line and without a traceback, and nothing is left behind."""
    cookiecutter = tool("cookiecutter")
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {tmp_path / 'replay'}\n")
    first = [
        cookiecutter,
        "--no-input",
        "--config-file",
        str(config),
        "-o",
        str(tmp_path / "first"),
    ]
    run([*first, str(TEMPLATE_ROOT), "project_name=Agt Replay"], cwd=tmp_path)
    (recorded,) = (tmp_path / "replay").glob("*.json")
    replay = json.loads(recorded.read_text())
    replay["cookiecutter"].update(changes)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(replay))
    out = tmp_path / "out"
    replayed = [cookiecutter, "--replay-file", str(edited), "-o", str(out), str(TEMPLATE_ROOT)]
    result = run(replayed, cwd=tmp_path, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert message in output
    assert "Traceback" not in output
    assert not out.exists() or not any(out.iterdir())
