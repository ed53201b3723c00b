"""A real browser uses the baked service's /docs page the way a person would.

Headless Debian Chromium, driven by Playwright, signs in through Swagger UI's OAuth2 password form
and calls GET /api/v1/users/me. This proves the docs page renders without any CDN (the template
serves Swagger UI's assets itself) and that the OAuth2 flow it documents really works.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, sync_playwright

from bench.servers import start_server
from tests.helpers import TEMPLATE_ROOT, run, scratch_database, venv_tool

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOT_DIR = TEMPLATE_ROOT / "artifacts" / "browser"
EMAIL = "browser@example.com"
PASSWORD = "a browser-typed password"
UI_TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)",
    ),
    pytest.mark.xdist_group("browser"),
]


@pytest.fixture(scope="module")
def served_project(
    default_project: Path, venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The default bake on a fresh, migrated database with one user, served by uvicorn."""
    env = {
        "FIRST_SUPERUSER_EMAIL": EMAIL,
        "FIRST_SUPERUSER_PASSWORD": PASSWORD,
    }
    python = venv_tool(venv, "python")
    with scratch_database("browser") as url:
        env["DATABASE_URL"] = url
        run([python, "-m", "app.cli", "create-db"], cwd=default_project, env=env)
        run([venv_tool(venv, "alembic"), "upgrade", "head"], cwd=default_project, env=env)
        run([python, "-m", "app.cli", "superuser"], cwd=default_project, env=env)
        yield from _serve(default_project, venv, env, tmp_path_factory.mktemp("browser"))


def _serve(project: Path, venv: Path, env: dict[str, str], tmp: Path) -> Iterator[str]:
    """Serves the project on a free loopback port until the generator is closed."""
    server = start_server(
        "browser",
        "app.server:serve",
        factory=True,
        cwd=project,
        env=env,
        ready_path="/health/live",
        log=tmp / "uvicorn.log",
        python=venv_tool(venv, "python"),
    )
    try:
        yield server.base_url
    finally:
        server.stop()


def authorize(page: Page) -> None:
    """Swagger UI's Authorize dialog: the OAuth2 password flow against /api/v1/auth/login."""
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#oauth_username").fill(EMAIL)
    dialog.locator("#oauth_password").fill(PASSWORD)
    dialog.locator(".auth-btn-wrapper button.authorize").click()
    # The dialog offers Logout only once the token request succeeded.
    dialog.locator(".auth-btn-wrapper button", has_text="Logout").wait_for(timeout=UI_TIMEOUT_MS)
    dialog.locator(".auth-btn-wrapper button.btn-done").click()


def execute(page: Page, method: str, path: str) -> Locator:
    """Expands one operation, presses Try it out and Execute; returns the operation block."""
    summary_path = page.locator(f'.opblock-summary-path[data-path="{path}"]')
    operation = page.locator(f".opblock-{method}").filter(has=summary_path)
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    operation.locator(".live-responses-table .response").wait_for(timeout=UI_TIMEOUT_MS)
    return operation


def test_docs_page_signs_in_and_reads_the_current_user(served_project: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            failed_requests: list[str] = []
            page.on("requestfailed", lambda request: failed_requests.append(request.url))
            page.goto(f"{served_project}/docs")
            page.locator(".swagger-ui .info .title").wait_for()

            authorize(page)
            operation = execute(page, "get", "/api/v1/users/me")
            operation.scroll_into_view_if_needed()
            operation.screenshot(path=str(SCREENSHOT_DIR / "docs-users-me.png"))

            response = operation.locator(".live-responses-table .response")
            status = response.locator(".response-col_status").inner_text().strip()
            body = response.locator(".response-col_description pre").first.inner_text()
        finally:
            browser.close()
    assert status == "200", body
    assert json.loads(body)["email"] == EMAIL
    assert failed_requests == []
