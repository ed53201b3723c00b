"""The baked README's curl walkthrough works word for word against `make run PORT=...`."""

import json
import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

from bench.servers import free_port
from tests.helpers import run, scratch_database, wait_until_live

CURL_BLOCK = re.compile(r"## Try it with curl\n.*?```bash\n(.*?)```", re.DOTALL)
BASE_LINE = "BASE=http://127.0.0.1:8000\n"


def json_documents(text: str) -> list[Any]:
    """curl prints each body without a newline: split the concatenated JSON documents."""
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while position < len(text.rstrip()):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def test_readme_curl_walkthrough_works_against_make_run(
    default_project: Path, venv: Path, tmp_path: Path
) -> None:
    match = CURL_BLOCK.search((default_project / "README.md").read_text())
    assert match, "no curl walkthrough in the baked README"
    script = match.group(1)
    assert script.startswith(BASE_LINE)
    port = free_port()
    # The shared venv stands in for the project's .venv; -o keeps make from building one.
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={venv}/bin"]
    log = tmp_path / "make-run.log"
    with scratch_database("curl") as url, log.open("wb") as output:
        server = subprocess.Popen(
            [*make, "run", f"PORT={port}"],
            cwd=default_project,
            env={**os.environ, "DATABASE_URL": url},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, uvicorn's reloader and its worker stop together
        )
        try:
            wait_until_live(f"http://127.0.0.1:{port}", server, log)
            script = script.replace(BASE_LINE, f"BASE=http://127.0.0.1:{port}\n", 1)
            result = run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, timeout=60)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    registered, me = json_documents(result.stdout)
    assert registered["email"] == "ada@example.com"
    assert me == registered
