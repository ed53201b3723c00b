"""The one table of answer sets the template tests bake.

Each row: a readable id, the suites that bake it, and the answers it changes from the defaults.
Add a combination by appending a row. The project name, and with it each bake's folder and
databases, comes from the id, so no two rows share a database; no name may contain "items".
"""

from typing import Any, NamedTuple

DEFAULT_SUITE = "default"  # tests/test_default_bake.py and every test that needs the default bake
MATRIX = "matrix"  # tests/test_matrix.py: lint, types and the baked suite of each answer
AGENTS = "agents"  # tests/test_agent_files.py: the .claude/ files of each agent_files answer
DEPLOYMENT = "deployment"  # tests/test_deployment.py: Dockerfile, compose and CI of each stack
KUBERNETES = "kubernetes"  # tests/test_kubernetes.py: the manifests of each kubernetes=yes bake
# A matrix row whose own tests run with a developer's tuned settings in the environment and .env
# (tests/hostile.py): the suite must ignore them. One row, the one with the most settings.
HOSTILE = "hostile"

# Answers that add or remove only files the service's code never reads: agent files, Dockerfile
# and compose file, CI workflow, manifests. A variant changing nothing else bakes the code of its
# "code twin" (the row with the same answers without these), whose types and tests run; the
# matrix checks that the two bakes' code is the same file for file instead of running them again.
PACKAGING_ANSWERS = frozenset({"agent_files", "agent_tools", "docker", "ci", "kubernetes"})


class Variant(NamedTuple):
    id: str
    suites: frozenset[str]
    answers: dict[str, Any]

    @property
    def project_name(self) -> str:
        # "no_items_agents_none" -> "Tpl Bare Agents None" -> database tpl_bare_agents_none_test
        return "Tpl " + self.id.replace("no_items", "bare").replace("_", " ").title()

    def bake_answers(self) -> dict[str, Any]:
        return {"project_name": self.project_name, **self.answers}

    def answer(self, name: str, default: Any) -> Any:
        return self.answers.get(name, default)

    @property
    def code_answers(self) -> dict[str, Any]:
        """The answers that shape the code: without PACKAGING_ANSWERS."""
        return {k: v for k, v in self.answers.items() if k not in PACKAGING_ANSWERS}

    @property
    def code_twin(self) -> "Variant | None":
        """The default or matrix row with this row's answers minus packaging ones, if another."""
        if self.code_answers == self.answers:
            return None
        runs_suite = (v for v in VARIANTS if v.suites & {DEFAULT_SUITE, MATRIX})
        return next((v for v in runs_suite if v.answers == self.code_answers), None)


def row(id_: str, suites: str, **answers: Any) -> Variant:
    return Variant(id_, frozenset(suites.split()), answers)


VARIANTS = (
    row("default", "default agents"),
    # Rows whose code runs (the default's and each row without a code twin) change several
    # independent answers at once, so six suites cover every answer's values and each pair of
    # the answers that interact: database x rate_limit_storage (default, sqlite_py312,
    # sqlite_taskiq, taskiq_py313), background_jobs x database and x rate_limit_storage
    # (sqlite_taskiq, taskiq_py313), example_resource x agent_files; each interpreter runs a
    # full suite on one of them.
    # SQLite (aiosqlite) with Redis counters, on Python 3.12.
    row(
        "sqlite_py312",
        "matrix",
        database="sqlite",
        rate_limit_storage="redis",
        python_version="3.12",
    ),
    row("no_items", "matrix agents", example_resource=False),
    row("agents_backend", "matrix agents", agent_files="backend"),
    row("agents_none", "matrix agents", agent_files="none"),
    # Copilot, Cursor and Gemini files besides Claude Code's, for a team and for one agent.
    row("agents_all", "agents", agent_tools="all"),
    row("agents_backend_all", "agents", agent_files="backend", agent_tools="all"),
    row("no_docker", "matrix", docker=False),
    row("no_ci", "matrix", ci="none"),
    # No realtime events and no file storage: no hub, attachments or storage, nor their routes,
    # settings and tests (the post hook's table). Traces here too: their spans in a bake with no
    # event stream, and with memory rate limits.
    row(
        "tracing_no_realtime",
        "matrix",
        tracing="opentelemetry",
        realtime="no",
        file_storage="none",
    ),
    row("no_items_agents_backend", "matrix agents", example_resource=False, agent_files="backend"),
    row("no_items_agents_none", "matrix agents", example_resource=False, agent_files="none"),
    row(
        "sqlite_no_docker",
        "matrix",
        database="sqlite",
        rate_limit_storage="redis",
        docker=False,
        python_version="3.12",
    ),
    row("kubernetes", "matrix kubernetes", kubernetes=True),
    # The manifests' S3 settings (Secret and ConfigMap entries) instead of the uploads volume;
    # also an agents row: the truth tests then cover the paths named for traces and manifests.
    # The code of taskiq_py313.
    row(
        "kubernetes_s3_tracing",
        "matrix agents kubernetes",
        kubernetes=True,
        rate_limit_storage="redis",
        background_jobs="taskiq",
        file_storage="s3",
        tracing="opentelemetry",
        python_version="3.13",
    ),
    # Manifests only: the taskiq and kubernetes matrix rows already run the code of both. Redis
    # comes in for the job queue alone (kubernetes_s3_tracing has the Redis counters).
    row("kubernetes_taskiq", "kubernetes", kubernetes=True, background_jobs="taskiq"),
    # The most dependencies (Redis counters and job queue, S3 storage, traces) on the newest
    # interpreter; the bake's tests start a moto S3 server. Its suite runs under hostile settings
    # (tests/hostile.py).
    row(
        "taskiq_py313",
        "matrix agents hostile",
        rate_limit_storage="redis",
        background_jobs="taskiq",
        file_storage="s3",
        tracing="opentelemetry",
        python_version="3.13",
    ),
    # With SQLite the API and the worker share one database file; the rate-limit counters stay
    # in memory, so Redis is there for the job queue only.
    row("sqlite_taskiq", "matrix", database="sqlite", background_jobs="taskiq"),
    # Deployment rows spell out every answer the deployment files depend on.
    row(
        "deploy_pg",
        "deployment",
        database="postgresql",
        rate_limit_storage="memory",
        python_version="3.11",
    ),
    row(
        "deploy_pg_redis",
        "deployment",
        database="postgresql",
        rate_limit_storage="redis",
        python_version="3.12",
    ),
    row(
        "deploy_sqlite_redis",
        "deployment",
        database="sqlite",
        rate_limit_storage="redis",
        python_version="3.13",
    ),
    row(
        "deploy_pg_taskiq",
        "deployment",
        database="postgresql",
        rate_limit_storage="redis",
        background_jobs="taskiq",
        python_version="3.11",
    ),
    row(
        "deploy_pg_taskiq_memory",
        "deployment",
        database="postgresql",
        rate_limit_storage="memory",
        background_jobs="taskiq",
        python_version="3.12",
    ),
)


def uses_redis(answers: dict[str, Any]) -> bool:
    """Whether a bake gets Redis: for the rate-limit counters, the job queue, or both."""
    return (
        answers.get("rate_limit_storage") == "redis" or answers.get("background_jobs") == "taskiq"
    )


def variants_in(suite: str) -> list[Variant]:
    return [variant for variant in VARIANTS if suite in variant.suites]


def variant_named(id_: str) -> Variant:
    return next(variant for variant in VARIANTS if variant.id == id_)
