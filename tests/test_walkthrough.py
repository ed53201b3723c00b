"""The baked README's curl walkthrough works word for word against `make run PORT=...`.

It is three steps: register; paste the `curl` line the console email sender logged (the README
shows that line with a placeholder for the token); sign in and write. With Items, the write is
create, list and delete an item; without, a change of the account's name.
"""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bench.servers import free_port
from tests.conftest import Baker
from tests.helpers import run, scratch_database, wait_until_live

# The walkthrough ends at the next heading of any level (files on items have their own).
SECTION = re.compile(r"### Try it with curl\n(.*?)\n##", re.DOTALL)
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
BASE_LINE = "BASE=http://127.0.0.1:8000\n"
TOKEN_PLACEHOLDER = "<the token from the log>"
LOG_WAIT_SECONDS = 20


def json_documents(text: str) -> list[Any]:
    """curl prints each body without a newline: split the concatenated JSON documents."""
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while position < len(text.rstrip()):
        while text[position].isspace():
            position += 1
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def walkthrough(project: Path) -> tuple[str, str, str]:
    """The section's three bash blocks: register, the verify line as shown, sign in and write."""
    match = SECTION.search((project / "README.md").read_text())
    assert match, "no curl walkthrough in the baked README"
    register, verify, write = BASH_BLOCK.findall(match.group(1))
    assert register.startswith(BASE_LINE)
    assert TOKEN_PLACEHOLDER in verify
    return register, verify.strip(), write


def logged_verify_line(log: Path, shown: str) -> str:
    """The line the console sender logged, which must be the README's with a real token."""
    pattern = re.compile(
        "^" + re.escape(shown).replace(re.escape(TOKEN_PLACEHOLDER), "[A-Za-z0-9_-]+") + "$",
        re.MULTILINE,
    )
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while time.monotonic() < deadline:
        if found := pattern.search(log.read_text()):
            return found.group(0)
        time.sleep(0.2)
    pytest.fail(f"no line like the README's verify step in the log:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module", params=[True, False], ids=["items", "no-items"])
def walkthrough_project(request: pytest.FixtureRequest, default_project: Path, bake: Baker) -> Path:
    if request.param:
        return default_project
    return bake(project_name="Tpl Walkthrough", example_resource=False)


def test_readme_curl_walkthrough_reaches_a_write_against_make_run(
    walkthrough_project: Path, venv: Path, tmp_path: Path
) -> None:
    register, verify, write = walkthrough(walkthrough_project)
    port = free_port()
    base_line = f"BASE=http://127.0.0.1:{port}\n"
    # The shared venv stands in for the project's .venv; -o keeps make from building one.
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={venv}/bin"]
    log = tmp_path / "make-run.log"
    with scratch_database("curl") as url, log.open("wb") as output:
        server = subprocess.Popen(
            [*make, "run", f"PORT={port}"],
            cwd=walkthrough_project,
            env={**os.environ, "DATABASE_URL": url},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, uvicorn's reloader and its worker stop together
        )
        try:
            wait_until_live(f"http://127.0.0.1:{port}", server, log)
            script = register.replace(BASE_LINE, base_line, 1)
            registered = run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, timeout=60)
            pasted = logged_verify_line(log, verify)
            script = base_line + pasted + "\n" + write
            wrote = run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, timeout=60)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    (account,) = json_documents(registered.stdout)
    assert account["email"] == "ada@example.com"
    assert account["is_verified"] is False
    me, *written = json_documents(wrote.stdout)
    assert (me["id"], me["email"], me["is_verified"]) == (account["id"], account["email"], True)
    if "/api/v1/items" in write:
        listed, deleted = written
        assert [item["title"] for item in listed["results"]] == ["First item"]
        assert deleted == 204
    else:
        (renamed,) = written
        assert renamed["full_name"] == "Ada Lovelace"
