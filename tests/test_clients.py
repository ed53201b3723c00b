"""Clients generated from a bake read like the API.

Every operation id is `<tag>.<action>` (the baked app/api/operation_ids.py), in the default bake
and after `make resource`; the baked README's "Generating a client" commands run word for word
with the pinned generators (tests/client_tools, the template's pyproject.toml) and warn about nothing; the
TypeScript client passes `tsc --strict` and types every documented error status.
"""

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.servers import free_port
from tests.conftest import Baker
from tests.helpers import CACHE_DIR, TEMPLATE_ROOT, run, tool, venv_tool, wait_until_live
from tests.test_resource import make_ready, make_resource

CLIENT_TOOLS = Path(__file__).parent / "client_tools"
README_BLOCK = re.compile(r"## Generating a client\n.*?```bash\n(.*?)```", re.DOTALL)
README_URL = "http://127.0.0.1:8000/openapi.json"
READABLE_ID = re.compile(r"[a-z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*")
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
# Each status listed in a route's responses must be a key of its generated `...Errors` type.
TYPESCRIPT_USE = """\
import { authLogoutAll, usersReadMe } from './client-ts';
import type { ItemsCreateErrors, UsersReadMeErrors, UsersUpdateMeErrors } from './client-ts';

export const readMe: Array<keyof UsersReadMeErrors> = [401, 429, 503];
export const updateMe: Array<keyof UsersUpdateMeErrors> = [400, 401, 403, 409, 413, 422, 429, 503];
export const createItem: Array<keyof ItemsCreateErrors> = [401, 403, 413, 422, 429, 503];

export async function signOutEverywhere(): Promise<string> {
  const me = await usersReadMe();
  if (me.error) return me.error.error.code;
  await authLogoutAll();
  return me.data.email;
}
"""
PYTHON_USE = """\
import httpx
from {package}.api.users import users_update_me
from {package}.client import Client
from {package}.models import ErrorResponse

body = {{"error": {{"code": "X", "message": "m", "details": None, "request_id": "r"}}}}
for status in (400, 401, 403, 409, 413, 422, 429, 503):
    response = httpx.Response(status, json=body)
    parsed = users_update_me._parse_response(client=Client(base_url="http://t"), response=response)
    assert isinstance(parsed, ErrorResponse), status
"""


def operation_ids(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def camel(words: str) -> str:
    first, *rest = words.split("_")
    return first + "".join(word.capitalize() for word in rest)


def camel_path(path: str) -> str:
    """`/api/v1/items/{item_id}` -> `ApiV1ItemsItemId`: what a FastAPI default id holds, camelCased."""
    return "".join(word.capitalize() for word in re.split(r"[^A-Za-z0-9]+", path) if word)


def naming_rule_breaks(schema: dict[str, Any]) -> list[str]:
    """One line per operation whose id is not `<camelCased tag>.<action>`, path-derived or repeated."""
    breaks: list[str] = []
    seen: set[str] = set()
    for method, path, operation in operation_ids(schema):
        where = f"{method.upper()} {path}: {operation.get('operationId')!r}"
        op_id = str(operation.get("operationId"))
        if not READABLE_ID.fullmatch(op_id) or camel_path(path) in op_id:
            breaks.append(f"{where} is not <tag>.<action>")
        elif op_id.split(".")[0] != camel(operation["tags"][0]):
            breaks.append(f"{where} does not start with its tag {operation['tags'][0]!r}")
        if op_id in seen:
            breaks.append(f"{where} repeats another operation's id")
        seen.add(op_id)
    return breaks


def test_naming_rule_check_refuses_fastapi_defaults_and_repeats() -> None:
    def operation(op_id: str) -> dict[str, Any]:
        return {"operationId": op_id, "tags": ["users"]}

    schema = {
        "paths": {
            "/api/v1/users/me": {
                "get": operation("read_me_api_v1_users_me_get"),
                "patch": operation("usersUpdateMeApiV1UsersMePatch"),
            },
            "/api/v1/users": {"get": operation("items.list"), "post": operation("users.x_post")},
            "/api/v1/users/{user_id}": {
                "get": operation("users.read"),
                "delete": operation("users.deleteUserApiV1UsersUserIdDelete"),
            },
            "/api/v1/users/{user_id}/again": {"get": operation("users.read")},
        }
    }
    assert len(naming_rule_breaks(schema)) == 6


@contextmanager
def serving(project: Path, venv: Path, log: Path) -> Iterator[str]:
    """The bake's app under uvicorn (as `make run` serves it, without migrating) on a free port."""
    base_url = f"http://127.0.0.1:{free_port()}"
    port = base_url.rsplit(":", 1)[1]
    uvicorn = [venv_tool(venv, "uvicorn"), "--factory", "app.server:serve", "--port", port]
    with log.open("wb") as output:
        server = subprocess.Popen(uvicorn, cwd=project, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until_live(base_url, server, log)
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=30)


def fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        document: dict[str, Any] = json.load(response)
    return document


def openapi_of(project: Path, venv: Path) -> dict[str, Any]:
    script = (
        "import json; from app.main import create_app; print(json.dumps(create_app().openapi()))"
    )
    schema: dict[str, Any] = json.loads(
        run([venv_tool(venv, "python"), "-c", script], cwd=project).stdout
    )
    return schema


def test_default_bake_operation_ids_follow_the_naming_rule(
    default_project: Path, venv: Path, tmp_path: Path
) -> None:
    with serving(default_project, venv, tmp_path / "uvicorn.log") as base_url:
        schema = fetch_json(f"{base_url}/openapi.json")
    assert naming_rule_breaks(schema) == []
    ids = {operation["operationId"] for _, _, operation in operation_ids(schema)}
    assert {"users.readMe", "users.list", "items.create", "auth.logoutAll", "health.live"} <= ids


def test_scaffolded_resources_follow_the_naming_rule(bake: Baker) -> None:
    project = bake(project_name="Tpl Clients Scaffold")
    venv = make_ready(project)
    make_resource(project, "categories", "title:str code:int:unique", "no")
    make_resource(project, "people", "name:str", "yes", singular="person")
    schema = openapi_of(project, venv)
    assert naming_rule_breaks(schema) == []
    operations = {op["operationId"]: op for _, _, op in operation_ids(schema)}
    for action in ("create", "list", "read", "update", "delete"):
        assert f"categories.{action}" in operations
    # An irregular plural keeps its singular (README, app/api/operation_ids.py).
    assert {"people.createPerson", "people.list", "people.readPerson"} <= set(operations)
    for write in ("categories.create", "categories.update"):
        assert {"403", "409", "413", "422", "429", "503"} <= set(operations[write]["responses"])


def client_tools_bin() -> Path:
    """tests/client_tools installed by `npm ci` once per manifest, in .cache (shared by workers)."""
    manifest = b"".join(
        (CLIENT_TOOLS / name).read_bytes() for name in ("package.json", "package-lock.json")
    )
    target = CACHE_DIR / f"client-tools-{hashlib.sha256(manifest).hexdigest()[:12]}"
    CACHE_DIR.mkdir(exist_ok=True)
    with (CACHE_DIR / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            npm = shutil.which("npm")
            assert npm, "npm is needed to install tests/client_tools (Node.js 20.19 or later)"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(CLIENT_TOOLS, target)
            run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, timeout=600)
            (target / ".complete").touch()
    return target / "node_modules" / ".bin"


def pinned_versions() -> dict[str, str]:
    """The launchers the README must use: the versions this test installs."""
    package = json.loads((CLIENT_TOOLS / "package.json").read_text())
    requirement = re.search(
        r'^\s*"openapi-python-client==([^"]+)",$',
        (TEMPLATE_ROOT / "pyproject.toml").read_text(),
        re.M,
    )
    assert requirement, "pyproject.toml's dev group must pin openapi-python-client"
    return {
        "npx": f"npx --yes @hey-api/openapi-ts@{package['devDependencies']['@hey-api/openapi-ts']}",
        "uvx": f"uvx openapi-python-client@{requirement.group(1)}",
    }


def readme_commands(project: Path, base_url: str) -> list[list[str]]:
    """The README's commands against `base_url`, each launcher swapped for the installed tool."""
    match = README_BLOCK.search((project / "README.md").read_text())
    assert match, "no 'Generating a client' commands in the baked README"
    tools = {"npx": str(client_tools_bin() / "openapi-ts"), "uvx": tool("openapi-python-client")}
    commands = []
    for line in match.group(1).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        launcher = pinned_versions()[line.split()[0]]
        assert line.startswith(f"{launcher} "), f"README pins another version: {line}"
        arguments = shlex.split(line.removeprefix(launcher))
        commands.append(
            [
                tools[line.split()[0]],
                *[a.replace(README_URL, f"{base_url}/openapi.json") for a in arguments],
            ]
        )
    return commands


def test_readme_generates_clients_that_read_like_the_api(
    default_project: Path, venv: Path, tmp_path: Path
) -> None:
    # The generators' helpers (ruff for the Python client) come from the template's own venv.
    path = f"{Path(sys.executable).parent}:{client_tools_bin()}:{os.environ['PATH']}"
    with serving(default_project, venv, tmp_path / "uvicorn.log") as base_url:
        for command in readme_commands(default_project, base_url):
            result = run(command, cwd=tmp_path, env={"PATH": path})
            assert "warn" not in (result.stdout + result.stderr).lower(), (
                result.stdout + result.stderr
            )
    sdk = (tmp_path / "client-ts" / "sdk.gen.ts").read_text()
    for function in ("usersReadMe", "itemsCreate", "authLogoutAll"):
        assert f"export const {function} =" in sdk
    (tmp_path / "use.ts").write_text(TYPESCRIPT_USE)
    tsc = [str(client_tools_bin() / "tsc"), "--strict", "--noEmit", "--target", "es2022"]
    tsc += ["--module", "esnext", "--moduleResolution", "bundler", "use.ts"]
    assert run(tsc, cwd=tmp_path).stdout == ""
    package = f"{default_project.name}_client"
    assert (tmp_path / package / "api" / "users" / "users_read_me.py").is_file()
    run([sys.executable, "-c", PYTHON_USE.format(package=package)], cwd=tmp_path)
