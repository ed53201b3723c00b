"""Seed the template through its own public API: one user, their items, an access token."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EMAIL = "bench@example.com"
PASSWORD = "bench password 123"
ITEM_COUNT = 50


@dataclass(frozen=True, slots=True)
class Seeded:
    access_token: str
    login_form: bytes
    item_id: str  # the first seeded item: the single-item read's target


def _call(url: str, body: bytes, content_type: str, token: str | None = None) -> Any:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def seed(base_url: str, mark_verified: Callable[[str], None]) -> Seeded:
    api = f"{base_url}/api/v1"
    account = {"email": EMAIL, "password": PASSWORD, "full_name": "Bench User"}
    _call(f"{api}/auth/register", json.dumps(account).encode(), "application/json")
    # Unverified accounts may only read; the items below are writes.
    mark_verified(EMAIL)
    form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
    token = _call(f"{api}/auth/login", form, "application/x-www-form-urlencoded")["access_token"]
    ids = []
    for number in range(ITEM_COUNT):
        item = {"title": f"Item {number:02d}", "description": "Seeded for the benchmark"}
        ids.append(
            _call(f"{api}/items", json.dumps(item).encode(), "application/json", token)["id"]
        )
    return Seeded(access_token=token, login_form=form, item_id=ids[0])


def fresh_token(base_url: str, patience_seconds: float = 60.0) -> str:
    """A new access token for the seeded user: the one from `seed` may expire during a long run.

    Right after a login storm the server still sheds logins (503 with Retry-After) while its
    hashing backlog drains: wait as told, for at most `patience_seconds`.
    """
    form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            reply = _call(
                f"{base_url}/api/v1/auth/login", form, "application/x-www-form-urlencoded"
            )
        except urllib.error.HTTPError as error:
            if error.code not in (429, 503) or time.monotonic() > deadline:
                raise
            time.sleep(float(error.headers.get("Retry-After") or 1))
            continue
        token: str = reply["access_token"]
        return token
