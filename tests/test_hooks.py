"""The hooks as plain Python: each check, the pruning table, `.env`, the lock, the closing message."""

import importlib.util
import json
import stat
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import TEMPLATE_ROOT, tool

HOOKS = TEMPLATE_ROOT / "hooks"
TEMPLATE_PROJECT = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
# Paths other branches add to the template; once they land these xpass and fail (strict),
# which is the reminder to delete the entry.


def load_hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HOOKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre = load_hook("pre_gen_project")
post = load_hook("post_gen_project")


def default_answers(**changes: Any) -> dict[str, Any]:
    """cookiecutter.json's defaults as cookiecutter would pass them (first choice of each list)."""
    raw: dict[str, Any] = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    answers = {
        key: value[0] if isinstance(value, list) else value
        for key, value in raw.items()
        if not key.startswith("_")
    }
    answers["project_slug"] = "my_service"
    answers.update(changes)
    # Derived in cookiecutter.json; the bakes in test_kubernetes.py check the rendered value.
    uses_redis = answers["rate_limit_storage"] == "redis" or answers["background_jobs"] == "taskiq"
    answers["__redis"] = "yes" if uses_redis else "no"
    return answers


def test_hooks_hold_jinja_only_in_their_literals() -> None:
    for hook in HOOKS.glob("*.py"):
        templated = [line for line in hook.read_text().splitlines() if "{{" in line or "{%" in line]
        literals = ['ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""']
        if hook.name == "pre_gen_project.py":
            literals.append('REBAKE_CHECKED = "{{ cookiecutter | refuse_edited_rebake }}"')
            literals.append('CHOICES_JSON = r"""{{ cookiecutter | template_choices }}"""')
        assert templated == literals, hook.name


def test_default_answers_pass_every_check() -> None:
    assert pre.problems(default_answers()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"project_name": "   "}, "project_name is empty"),
        ({"project_slug": "My_Service"}, "is not a lowercase Python identifier"),
        ({"project_slug": "2fast"}, "is not a lowercase Python identifier"),
        ({"project_slug": "my-service"}, "is not a lowercase Python identifier"),
        ({"project_slug": "class"}, "is not a lowercase Python identifier"),
        ({"project_slug": "app"}, "would shadow the module 'app'"),
        ({"project_slug": "tests"}, "would shadow the module 'tests'"),
        ({"project_slug": "sqlalchemy"}, "would shadow the module 'sqlalchemy'"),
        ({"project_slug": "json"}, "would shadow the module 'json'"),
        ({"author_email": "not-an-email"}, "author_email 'not-an-email' is not an email"),
        ({"author_email": "a@b"}, "is not an email address"),
        ({"description": 'The "best" API'}, "description contains a double quote"),
        ({"author_name": "A\\B"}, "author_name contains a double quote, backslash"),
        ({"project_slug": "s" * 48}, "too long for database=postgresql"),
        ({"kubernetes": True, "docker": False}, "kubernetes=yes needs docker=yes"),
        ({"kubernetes": True, "database": "sqlite"}, "kubernetes=yes needs database=postgresql"),
    ],
)
def test_bad_answer_gets_one_message_naming_it(changes: dict[str, Any], expected: str) -> None:
    found = pre.problems(default_answers(**changes))
    assert len(found) == 1, found
    assert expected in found[0]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Billing API v2.0", "billing_api_v2_0"),
        ("Café API", "cafe_api"),
        ("3D Print API", "service_3d_print_api"),
        ("Crème Brûlée Orders", "creme_brulee_orders"),
        ("Straße-Dienst", "strasse_dienst"),
        ("api.example.com", "api_example_com"),
        ("  My   Shop -- Admin  ", "my_shop_admin"),
        ("2024", "service_2024"),
        ("JSON", "json_service"),
        ("Tests", "tests_service"),
        ("Class", "class_service"),
        ("!!!", "service"),
        ("x" * 80, "x" * 38),
    ],
)
def test_derived_slug_is_always_accepted(name: str, slug: str) -> None:
    assert pre.derive_slug(name) == slug
    assert pre.problems(default_answers(project_name=name, project_slug=slug)) == []


def test_refused_slug_message_suggests_an_accepted_one() -> None:
    (message,) = pre.problems(default_answers(project_slug="café-api"))
    assert message.endswith("; try 'cafe_api'")


def test_known_problems_skip_checks_whose_answers_come_later() -> None:
    answers = {"project_name": "Agt", "project_slug": "2fast"}
    (message,) = pre.known_problems(answers)
    assert "project_slug '2fast'" in message
    assert pre.known_problems({"project_name": "Agt", "project_slug": "agt"}) == []


def test_slug_length_limit_applies_only_to_postgresql() -> None:
    longest_allowed = "s" * (pre.POSTGRES_NAME_LIMIT - len(pre.LONGEST_DATABASE_SUFFIX))
    assert pre.problems(default_answers(project_slug=longest_allowed)) == []
    assert (
        pre.problems(default_answers(project_slug=longest_allowed + "s", database="sqlite")) == []
    )


def test_every_check_is_registered() -> None:
    defined = {name for name in vars(pre) if name.startswith("check_")}
    assert {check.__name__ for check in pre.CHECKS} == defined


def removal_paths() -> list[str]:
    return sorted({path for _, _, group in post.REMOVALS for path in group})


@pytest.mark.parametrize("relative", removal_paths())
def test_every_path_in_the_removal_table_exists_in_the_template(relative: str) -> None:
    assert (TEMPLATE_PROJECT / relative).exists()


def test_removal_table_names_only_real_answers_and_values() -> None:
    raw: dict[str, Any] = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    for answer, value, _ in post.REMOVALS:
        if answer.startswith("__"):  # derived in cookiecutter.json: "yes" or "no"
            assert value in ("yes", "no"), (answer, value)
            continue
        allowed = raw[answer] if isinstance(raw[answer], list) else [True, False]
        assert value in allowed, (answer, value)


@pytest.mark.parametrize(
    ("changes", "removed", "kept"),
    [
        ({}, set(), {".claude", "AGENTS.md", "app/models/items.py"}),
        (
            {"agent_files": "backend"},
            set(post.TEAM_ONLY_AGENT_PATHS),
            {".claude/agents/backend.md"},
        ),
        ({"agent_files": "none"}, {".claude", "AGENTS.md", "CLAUDE.md"}, {"app/main.py"}),
        ({"example_resource": False}, set(post.ITEMS_PATHS), {".claude/CONTRACT.md"}),
        ({"ci": "none", "docker": False}, {".github/workflows", "Dockerfile"}, {".claude"}),
        ({}, set(post.OTHER_AGENT_TOOL_PATHS), {".github/workflows", "AGENTS.md"}),
        (
            {"agent_tools": "all", "ci": "none"},
            {".github/workflows"},
            {".github/copilot-instructions.md", ".cursor", ".gemini"},
        ),
        ({"agent_tools": "all", "agent_files": "none"}, {".cursor", ".gemini", "AGENTS.md"}, set()),
        ({}, {"deploy", "app/observability/tracing.py"}, {"app/observability/metrics.py"}),
        (
            {"tracing": "opentelemetry", "kubernetes": True},
            set(),
            {"deploy", "app/observability/tracing.py"},
        ),
        ({}, set(post.TASKIQ_PATHS), {"app/jobs/in_process.py", "app/jobs/emails.py"}),
        (
            {"background_jobs": "taskiq"},
            set(post.IN_PROCESS_JOB_PATHS),
            {"app/jobs/queue.py", "app/jobs/emails.py"},
        ),
        ({"kubernetes": True}, set(post.KUBERNETES_WORKER_PATHS), {"deploy"}),
        (
            {"kubernetes": True, "background_jobs": "taskiq", "rate_limit_storage": "redis"},
            set(),
            {"deploy/kubernetes/base/worker.yaml", "deploy/kubernetes/base/redis.yaml"},
        ),
        # The job queue alone brings Redis in, with in-memory rate-limit counters.
        (
            {"kubernetes": True, "background_jobs": "taskiq"},
            set(post.REDIS_PATHS),
            {"deploy/kubernetes/base/worker.yaml", "deploy/kubernetes/base/redis.yaml"},
        ),
        ({"kubernetes": True}, set(post.KUBERNETES_REDIS_PATHS), {"deploy"}),
    ],
)
def test_paths_to_remove_follow_the_answers(
    changes: dict[str, Any], removed: set[str], kept: set[str]
) -> None:
    chosen = set(post.paths_to_remove(default_answers(**changes)))
    assert removed <= chosen
    assert not kept & chosen


def test_remove_deletes_files_and_folders_and_ignores_missing(tmp_path: Path) -> None:
    (tmp_path / "folder" / "inner").mkdir(parents=True)
    (tmp_path / "folder" / "inner" / "a.md").write_text("x")
    (tmp_path / "file.py").write_text("x")
    for relative in ("folder", "file.py", "never-there.txt"):
        post.remove(tmp_path, relative)
    assert list(tmp_path.iterdir()) == []


def test_write_env_replaces_only_the_secret_and_never_rewrites_it(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("A=1\nSECRET_KEY=change-me\n# SECRET_KEY stays\nB=2\n")
    assert post.write_env(tmp_path) is True
    first = (tmp_path / ".env").read_text().splitlines()
    assert first[0] == "A=1"
    assert first[2:] == ["# SECRET_KEY stays", "B=2"]
    assert first[1].startswith("SECRET_KEY=")
    assert len(first[1]) > len("SECRET_KEY=") + 40
    assert post.write_env(tmp_path) is False
    assert (tmp_path / ".env").read_text().splitlines() == first


def test_write_lock_locks_the_project_with_uv(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "0"\nrequires-python = ">=3.11"\ndependencies = []\n'
    )
    line = post.write_lock(tmp_path, tool("uv"))
    assert line.startswith("Wrote uv.lock")
    assert 'name = "shop"' in (tmp_path / "uv.lock").read_text()


def test_write_lock_without_uv_says_in_one_line_what_comes_next(tmp_path: Path) -> None:
    line = post.write_lock(tmp_path, None)
    assert "\n" not in line
    assert "make install" in line
    assert not (tmp_path / "uv.lock").exists()


def test_write_lock_tries_uvs_cache_when_the_index_fails(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake_uv = tmp_path / "uv"
    fake_uv.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 2\n')
    fake_uv.chmod(fake_uv.stat().st_mode | stat.S_IXUSR)
    line = post.write_lock(tmp_path, str(fake_uv))
    assert calls.read_text().splitlines() == ["lock --quiet", "lock --quiet --offline"]
    assert "\n" not in line
    assert "`make install` writes it once online" in line


def test_manifest_lists_baked_files_but_not_what_git_ignores(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("# local\n.env\n.venv/\n*.db\n")
    for relative in ("app/main.py", ".env", ".venv/bin/python", "shop.db"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(relative)
    post.write_manifest(tmp_path)
    assert sorted(json.loads((tmp_path / post.MANIFEST).read_text())) == [
        ".gitignore",
        "app/main.py",
    ]
    assert pre.MANIFEST == post.MANIFEST


def test_rebake_is_refused_over_edited_files_unless_forced(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / "main.py").write_text("baked")
    (tmp_path / "gone.py").write_text("baked")
    post.write_manifest(tmp_path)
    assert pre.refuse_edited_rebake(tmp_path, force=False) is None
    (tmp_path / "main.py").write_text("edited")
    (tmp_path / "gone.py").unlink()
    refusal = pre.refuse_edited_rebake(tmp_path, force=False)
    assert refusal is not None
    assert "has changes since it was baked: gone.py, main.py; re-baking would overwrite" in refusal
    assert "OVERWRITE_EDITED=1" in refusal
    assert pre.refuse_edited_rebake(tmp_path, force=True) is None


def test_rebake_is_refused_over_a_folder_that_was_never_baked(tmp_path: Path) -> None:
    assert pre.refuse_edited_rebake(tmp_path, force=False) is None
    (tmp_path / "notes.txt").write_text("mine")
    refusal = pre.refuse_edited_rebake(tmp_path, force=False)
    assert refusal is not None
    assert "was not baked by this template" in refusal


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("/work", "out/shop"),
        ("/work/out/shop", "."),
        ("/elsewhere", "/work/out/shop"),
        (None, "/work/out/shop"),
    ],
)
def test_location_is_relative_to_where_cookiecutter_started(
    start: str | None, expected: str
) -> None:
    assert post.location(Path("/work/out/shop"), start) == expected


def test_next_steps_are_the_readme_quick_start_commands() -> None:
    answers = default_answers(project_name="Agt Hooks", project_slug="agt_hooks")
    text = post.next_steps(answers, "build/agt_hooks")
    readme = (TEMPLATE_PROJECT / "README.md").read_text()
    assert "cd build/agt_hooks" in text
    assert ".env" not in text
    assert "Kept the existing .env" in post.next_steps(answers, "agt_hooks", env_kept=True)
    assert "Wrote uv.lock" in post.next_steps(answers, "agt_hooks", lock="Wrote uv.lock.\n")
    for command in ("make run", "make test"):
        assert command in text
        assert f"{command} " in readme


def test_choices_outside_the_template_lists_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pre, "CHOICES_JSON", json.dumps({"database": ["postgresql", "sqlite"]}))
    assert pre.check_choices(default_answers()) is None
    message = pre.check_choices(default_answers(database="oracle"))
    assert message == "database='oracle' is not one of its choices: postgresql, sqlite"


def test_unrendered_choices_check_nothing() -> None:
    # Read as a plain module (these tests, answers_extension.py) the literal is still Jinja.
    assert pre.template_choices() == {}
