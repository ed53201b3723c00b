"""The v1 API: every resource's router under /api/v1, each route counted against the default
rate limit."""

from fastapi import APIRouter, Depends, FastAPI

from app.api.rate_limit import default_rate_limit
from app.api.v1.endpoints import {% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}attachments, {% endif %}auth, {% if cookiecutter.realtime == "yes" %}events, {% endif %}{% if cookiecutter.example_resource %}items, {% endif %}users

API_V1_PREFIX = "/api/v1"
{%- if cookiecutter.realtime == "yes" %}
# The event stream, for the layer that may cut its response off (app/http/streams.py).
EVENTS_PATH = f"{API_V1_PREFIX}{events.router.prefix}"
{%- endif %}
# In reading order; `make resource` adds each new resource's router at the end.
ROUTERS: list[APIRouter] = [
    auth.router,
    users.router,
{%- if cookiecutter.realtime == "yes" %}
    events.router,
{%- endif %}
{%- if cookiecutter.example_resource %}
    items.router,
{%- endif %}
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    attachments.router,
{%- endif %}
]


def include_api_v1(app: FastAPI) -> None:
    """Each router goes on the app itself, not into one /api/v1 router the app includes: FastAPI
    matches a request against the routes of every router it passes through, and walks a router
    nested in another twice (PERFORMANCE.md)."""
    for router in ROUTERS:
        app.include_router(router, prefix=API_V1_PREFIX, dependencies=[Depends(default_rate_limit)])
{%- if cookiecutter.realtime == "yes" %}
    # A WebSocket has no HTTP response for the rate limit's headers: the stream caps bound it.
    app.include_router(events.socket_router, prefix=API_V1_PREFIX)
{%- endif %}
