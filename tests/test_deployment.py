"""Dockerfile, docker-compose.yml, the CI workflow, Dependabot and pre-commit config, per answer set.

No Docker engine or GitHub runner is available here, so the files are checked by linters
(hadolint, actionlint), by the JSON schemas check-jsonschema ships (compose-spec,
github-workflows, dependabot), and by parsing them and asserting the structure the answers call
for. The CI workflow's lock check is run for real, on a bake whose pyproject.toml was edited.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Baker
from tests.helpers import copy_project, run, tool
from tests.variants import DEPLOYMENT, uses_redis, variants_in

FULL_SHA = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")

pytestmark = pytest.mark.xdist_group("deployment")


@pytest.fixture(scope="module", params=variants_in(DEPLOYMENT), ids=lambda variant: variant.id)
def variant(request: pytest.FixtureRequest, bake: Baker) -> tuple[dict[str, str], Path]:
    answers = request.param.bake_answers()
    return answers, bake(**answers)


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def dockerfile_instructions(project: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (project / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint(variant: tuple[dict[str, str], Path]) -> None:
    _, project = variant
    run([tool("hadolint"), "--failure-threshold", "info", "Dockerfile"], cwd=project)


def test_dockerfile_pins_the_slim_image_of_the_chosen_python(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    args = [value for name, value in dockerfile_instructions(project) if name == "ARG"]
    version = re.escape(answers["python_version"])
    assert re.fullmatch(rf"PYTHON_IMAGE=python:{version}\.\d+-slim-\w+", args[0]), args


def test_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another(
    variant: tuple[dict[str, str], Path],
) -> None:
    _, project = variant
    steps = dockerfile_instructions(project)
    stages = [value for name, value in steps if name == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    last_from = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    runtime = steps[last_from:]
    runtime_values = [f"{name} {value}" for name, value in runtime]
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime_values
    assert not [value for value in runtime_values if value.startswith("RUN pip")]
    assert not [value for value in runtime_values if re.search(r"\buv\b", value)]
    users = [value for name, value in runtime if name == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_installs_the_lock_as_it_is_dependencies_first(
    variant: tuple[dict[str, str], Path],
) -> None:
    _, project = variant
    steps = dockerfile_instructions(project)
    builder = [f"{name} {value}" for name, value in steps[: [n for n, _ in steps].index("FROM", 2)]]
    assert "RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8" in builder
    syncs = [step for step in builder if " uv sync " in step]
    assert len(syncs) == 2, builder
    assert all("--frozen --no-dev" in step and "type=cache" in step for step in syncs)
    assert "--no-install-project" in syncs[0]
    assert "--no-editable" in syncs[1]
    # Only the lock and pyproject.toml before the dependency layer: app edits keep it cached.
    first_sync = builder.index(syncs[0])
    copied = [step for step in builder[:first_sync] if step.startswith("COPY")]
    assert copied == ["COPY pyproject.toml uv.lock ./"]


def test_dockerfile_checks_liveness_and_serves_in_production_mode(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    steps = dict(dockerfile_instructions(project))  # the last occurrence wins, as in Docker
    assert "/health/live" in steps["HEALTHCHECK"]
    assert "curl" not in steps["HEALTHCHECK"]  # the slim image has none
    command = json.loads(steps["CMD"])  # the exec form is a JSON list
    assert command[:3] == ["uvicorn", "--factory", "app.server:serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert "--proxy-headers" in command
    env_lines = [value for name, value in dockerfile_instructions(project) if name == "ENV"]
    assert any("ENVIRONMENT=production" in line for line in env_lines)
    sqlite_url = any("DATABASE_URL=sqlite+aiosqlite:////app/data/" in line for line in env_lines)
    assert sqlite_url == (answers["database"] == "sqlite")


def test_dockerignore_admits_what_the_image_copies_and_nothing_secret(
    variant: tuple[dict[str, str], Path],
) -> None:
    _, project = variant
    rules = [
        line
        for line in (project / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert rules[0] == "*", "an allow-list starts by excluding everything"
    admitted = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {
        source.rstrip("/")
        for name, value in dockerfile_instructions(project)
        if name == "COPY" and "--from=" not in value
        for source in value.split()[:-1]
    }
    assert copied == admitted
    assert not [name for name in admitted if name.startswith(".env") or name == ".venv"]


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_file_matches_the_compose_schema(variant: tuple[dict[str, str], Path]) -> None:
    _, project = variant
    schema = ["--builtin-schema", "vendor.compose-spec"]
    run([tool("check-jsonschema"), *schema, "docker-compose.yml"], cwd=project)


def test_compose_services_follow_the_answers(variant: tuple[dict[str, str], Path]) -> None:
    answers, project = variant
    services = load_yaml(project / "docker-compose.yml")["services"]
    expected = {"migrate", "api"}
    if answers["database"] == "postgresql":
        expected.add("db")
    if uses_redis(answers):
        expected.add("redis")
    if answers.get("background_jobs") == "taskiq":
        expected.add("worker")
        assert services["worker"]["command"][:2] == ["taskiq", "worker"]
        assert "when_executed" in services["worker"]["command"]
        assert "ports" not in services["worker"]
        # The heartbeat probe Kubernetes runs too (the bake's tests/jobs/test_worker_probes.py).
        probe = ["CMD", "python", "-m", "app.jobs.heartbeat", "ready"]
        assert services["worker"]["healthcheck"]["test"] == probe
    assert set(services) == expected
    for name in expected - {"migrate", "api", "worker"}:
        assert services[name]["healthcheck"]["test"], f"{name} needs a health check"
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_api_starts_after_migrations_and_healthy_dependencies(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    services = load_yaml(project / "docker-compose.yml")["services"]
    conditions = {name: rule["condition"] for name, rule in services["api"]["depends_on"].items()}
    expected = {"migrate": "service_completed_successfully"}
    if answers["database"] == "postgresql":
        expected["db"] = "service_healthy"
        assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    if uses_redis(answers):
        expected["redis"] = "service_healthy"
    assert conditions == expected


def test_compose_points_the_app_at_its_services_and_keeps_data_in_named_volumes(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    compose = load_yaml(project / "docker-compose.yml")
    services = compose["services"]
    slug = project.name
    for name in set(services) & {"migrate", "api", "worker"}:
        env = services[name]["environment"]
        assert env["ENVIRONMENT"] == "production"
        assert env["EMAIL_BACKEND"] == "smtp"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        if answers["database"] == "postgresql":
            assert re.fullmatch(
                rf"postgresql\+asyncpg://postgres:.+@db:5432/{slug}", env["DATABASE_URL"]
            )
        else:
            assert env["DATABASE_URL"] == f"sqlite+aiosqlite:////app/data/{slug}.db"
            assert "data:/app/data" in services[name]["volumes"]
        redis_url = "redis://redis:6379/0"
        counters = answers["rate_limit_storage"] == "redis"
        assert env.get("RATE_LIMIT_STORAGE_URL") == (redis_url if counters else None)
        assert env.get("REDIS_URL") == (redis_url if uses_redis(answers) else None)
    mounted = {
        mount.split(":")[0] for service in services.values() for mount in service.get("volumes", [])
    }
    assert mounted == set(compose["volumes"]), "every mount is a declared named volume"
    expected_volumes = {"pgdata" if answers["database"] == "postgresql" else "data"}
    if answers.get("background_jobs") == "taskiq":
        expected_volumes.add("redisdata")  # queued jobs survive a Redis restart
    if answers.get("file_storage", "local") == "local":
        expected_volumes.add("uploads")  # uploaded files outlive the container
        assert "uploads:/app/uploads" in services["api"]["volumes"]
    assert set(compose["volumes"]) == expected_volumes


# --- .github/workflows/ci.yml -------------------------------------------------------------------


def test_ci_workflow_passes_actionlint_and_the_workflow_schema(
    variant: tuple[dict[str, str], Path],
) -> None:
    _, project = variant
    workflow = ".github/workflows/ci.yml"
    run([tool("actionlint"), workflow], cwd=project)
    schema = ["--builtin-schema", "vendor.github-workflows"]
    run([tool("check-jsonschema"), *schema, workflow], cwd=project)


def test_ci_workflow_checks_the_lock_then_runs_exactly_make_lint_and_make_test(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    job = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["test"]
    steps = job["steps"]
    commands = [step["run"] for step in steps if "run" in step]
    assert commands == [CI_LOCK_CHECK, "make lint", "make test"]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses
    assert all(FULL_SHA.match(action) for action in uses), uses
    setup = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == answers["python_version"]
    setup_uv = next(step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv"))
    assert setup_uv["with"] == {
        "version": "0.13.8",
        "enable-cache": True,
        "cache-dependency-glob": "uv.lock",
    }


# The workflow's lock step, run here as CI runs it.
CI_LOCK_CHECK = "uv lock --check"


def test_ci_lock_check_fails_on_a_dependency_added_without_relocking(
    default_project: Path, tmp_path: Path
) -> None:
    project = copy_project(default_project, tmp_path)
    uv = tool("uv")
    run([uv, *CI_LOCK_CHECK.split()[1:], "--offline"], cwd=project)
    pyproject = project / "pyproject.toml"
    pin = '    "httpx==0.28.1",\n'
    assert pin in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(pin, pin + '    "idna==3.10",\n'))
    result = run([uv, *CI_LOCK_CHECK.split()[1:]], cwd=project, check=False)
    assert result.returncode != 0
    assert "needs to be updated" in result.stderr, result.stderr
    assert "uv lock" in result.stderr  # uv's own hint names the fix


def test_ci_workflow_starts_the_service_containers_the_answers_need(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    job = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["test"]
    services = job.get("services", {})
    env = job.get("env", {})
    slug = project.name
    if answers["database"] == "postgresql":
        assert services["postgres"]["ports"] == ["5432:5432"]
        assert "--health-cmd" in services["postgres"]["options"]
        assert env["DATABASE_URL"].endswith(f"@127.0.0.1:5432/{slug}")
        assert env["TEST_DATABASE_URL"].endswith(f"@127.0.0.1:5432/{slug}_test")
    else:
        assert "postgres" not in services
        assert "DATABASE_URL" not in env
    if uses_redis(answers):
        assert services["redis"]["ports"] == ["6379:6379"]
        assert "--health-cmd" in services["redis"]["options"]
        assert env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    else:
        assert "redis" not in services
    if answers["rate_limit_storage"] == "redis":
        assert env["RATE_LIMIT_STORAGE_URL"] == "redis://127.0.0.1:6379/0"


# --- .github/dependabot.yml ---------------------------------------------------------------------


def test_dependabot_updates_the_lock_the_base_image_and_the_actions(
    variant: tuple[dict[str, str], Path],
) -> None:
    answers, project = variant
    config = ".github/dependabot.yml"
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", config], cwd=project)
    ecosystems = {update["package-ecosystem"] for update in load_yaml(project / config)["updates"]}
    expected = {"uv", "github-actions"} | ({"docker"} if answers.get("docker", True) else set())
    assert ecosystems == expected


# --- .pre-commit-config.yaml --------------------------------------------------------------------


def test_pre_commit_config_is_valid_and_runs_ruff_and_mypy(
    variant: tuple[dict[str, str], Path],
) -> None:
    _, project = variant
    run([tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"], cwd=project)
    hooks = {
        hook["id"]: hook["entry"]
        for repo in load_yaml(project / ".pre-commit-config.yaml")["repos"]
        for hook in repo["hooks"]
    }
    assert hooks == {
        "uv-lock": "make --no-print-directory lock",
        "ruff-check": ".venv/bin/ruff check --fix --force-exclude",
        "ruff-format": ".venv/bin/ruff format --force-exclude",
        "mypy": ".venv/bin/mypy app",
    }


def test_pre_commit_hooks_pass_on_a_fresh_bake(
    default_project: Path, venv: Path, tmp_path: Path
) -> None:
    """The hooks run for real, from the project's .venv, in a git checkout of the bake."""
    project = copy_project(default_project, tmp_path)  # without an installed .venv or caches
    (project / ".venv").symlink_to(venv)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    run([*git, "init", "-q"], cwd=project)
    run([*git, "add", "-A"], cwd=project)
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    result = run([tool("pre-commit"), "run", "--all-files"], cwd=project, env=env)
    assert result.stdout.count("Passed") == 4, result.stdout


# --- pruning ------------------------------------------------------------------------------------


def test_dependabot_leaves_docker_out_without_a_dockerfile(bake: Baker) -> None:
    project = bake(project_name="Tpl Deploy No Docker", docker=False)
    config = load_yaml(project / ".github" / "dependabot.yml")
    assert {update["package-ecosystem"] for update in config["updates"]} == {"uv", "github-actions"}


def test_docker_no_and_ci_none_remove_the_deployment_files(bake: Baker) -> None:
    project = bake(project_name="Tpl Deploy Off", docker=False, ci="none")
    for relative in ("Dockerfile", ".dockerignore", "docker-compose.yml", ".github"):
        assert not (project / relative).exists(), relative
    assert (project / ".pre-commit-config.yaml").is_file()
