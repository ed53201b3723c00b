"""The deploy files of every kubernetes=yes bake pass Checkov, the scanner a platform team runs.

One scan per bake over its Kubernetes manifests (each file, and each kustomization rendered),
Dockerfile and GitHub workflow. No check may fail; a check skipped must be one of SKIPS below,
each with the reason written next to it in the bake (a `checkov.io/skip-*` annotation or a
`# checkov:skip=` comment). The production overlay skips no check of the service's own images.
"""

import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Baker
from tests.helpers import CACHE_DIR, TEMPLATE_ROOT, run, tool
from tests.variants import KUBERNETES, Variant, variants_in

FRAMEWORKS = ("kubernetes", "kustomize", "dockerfile", "github_actions")
BASE = "deploy/kubernetes/base/"
OVERLAY = "deploy/kubernetes/overlays/production/"
# (check, where the scanner reports it, what it is about) -> the only skips a bake may have.
SKIPS = {
    # The base names the image only; the overlay pins tag and digest (its `images:`) and drops these.
    ("CKV_K8S_14", BASE, "api"),
    ("CKV_K8S_43", BASE, "api"),
    ("CKV_K8S_14", BASE, "migrate"),
    ("CKV_K8S_43", BASE, "migrate"),
    ("CKV_K8S_14", BASE, "worker"),
    ("CKV_K8S_43", BASE, "worker"),
    # The official Redis image at a fixed minor tag; its digest depends on the mirror you pull from.
    ("CKV_K8S_43", BASE, "redis"),
    ("CKV_K8S_43", OVERLAY, "redis"),
    # FROM ${PYTHON_IMAGE}: the ARG is a pinned patch release, which the scanner cannot resolve.
    ("CKV_DOCKER_7", "Dockerfile", ""),
}

pytestmark = pytest.mark.xdist_group("scanner")


@pytest.fixture(scope="session")
def checkov() -> str:
    """checkov from requirements-scanner.txt, in a virtualenv of its own (see that file)."""
    pins = (TEMPLATE_ROOT / "requirements-scanner.txt").read_text()
    venv = CACHE_DIR / "checkov-venv"
    CACHE_DIR.mkdir(exist_ok=True)
    with (CACHE_DIR / "checkov-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        complete = venv / ".complete"
        if not complete.exists() or complete.read_text() != pins:
            uv = str(Path(sys.executable).parent / "uv")
            run([uv, "venv", "--quiet", "--clear", str(venv)], cwd=TEMPLATE_ROOT)
            python = str(venv / "bin" / "python")
            requirements = str(TEMPLATE_ROOT / "requirements-scanner.txt")
            run(
                [uv, "pip", "install", "--quiet", "--python", python, "-r", requirements],
                cwd=TEMPLATE_ROOT,
            )
            complete.write_text(pins)
    return str(venv / "bin" / "checkov")


@pytest.fixture(scope="module", params=variants_in(KUBERNETES), ids=lambda variant: variant.id)
def scanned(request: pytest.FixtureRequest, bake: Baker, checkov: str) -> dict[str, Any]:
    chosen: Variant = request.param
    project = bake(**chosen.bake_answers())
    command = [checkov, "--directory", ".", "--framework", *FRAMEWORKS, "--skip-path", ".venv"]
    # Offline: no policy download, no mapping of check ids fetched from the vendor's API.
    command += ["--skip-download", "--output", "json", "--compact"]
    env = {
        "BC_SKIP_MAPPING": "TRUE",
        # The kustomize framework renders each kustomization with kubectl's built-in kustomize.
        "PATH": f"{Path(tool('kubectl')).parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = run(command, cwd=project, env=env, timeout=600, check=False)
    assert result.returncode in {0, 1}, result.stderr[-4000:]  # 1: some check failed
    reports = json.loads(result.stdout)
    return {report["check_type"]: report for report in reports}


def where(finding: dict[str, Any]) -> str:
    return f"{finding['check_id']} {finding['file_path']} {finding['resource']}"


def test_every_framework_scanned_the_bake(scanned: dict[str, Any]) -> None:
    assert sorted(scanned) == sorted(FRAMEWORKS)
    for framework, report in scanned.items():
        assert report["summary"]["passed"] > 0, framework
        assert report["summary"]["parsing_errors"] == 0, framework
    # Both the base and the overlay were rendered and checked.
    resources = {check["resource"] for check in scanned["kustomize"]["results"]["passed_checks"]}
    assert {resource.split(":")[0] for resource in resources} == {"base", "overlay"}


def test_no_check_fails(scanned: dict[str, Any]) -> None:
    failed = [where(f) for report in scanned.values() for f in report["results"]["failed_checks"]]
    assert failed == []


def skip_key(finding: dict[str, Any]) -> tuple[str, str, str]:
    """(check, base/overlay folder or file, the object's name without the bake's prefix)."""
    path = finding["file_path"].lstrip("/")
    place = next((folder for folder in (BASE, OVERLAY) if path.startswith(folder)), path)
    kind_and_names = finding["resource"].split(":")[-1].split(".")
    name = kind_and_names[2].rsplit("-", 1)[-1] if len(kind_and_names) > 2 else ""
    return finding["check_id"], place, name


def test_every_skip_is_expected_and_says_why(scanned: dict[str, Any]) -> None:
    skipped = [f for report in scanned.values() for f in report["results"]["skipped_checks"]]
    assert {skip_key(f) for f in skipped} <= SKIPS, [where(f) for f in skipped]
    for finding in skipped:
        reason = finding["check_result"]["suppress_comment"].strip()
        assert len(reason) > 20, where(finding)  # checkov says "No comment provided" without one
