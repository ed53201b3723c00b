"""Which route a request matched, as declared: the label for logs, metrics and spans; and
which methods its path answers, for the `Allow` header of a 405."""

from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import Scope

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def route_template(scope: Scope) -> str | None:
    """The matched route's template (`/api/v1/users/{user_id}`), never the raw path; None when
    no route matched (the caller picks what to record instead).

    FastAPI keeps the matched route's full template in its own scope entry; `scope["route"].path`
    lacks the prefixes of the routers it was included through. tests/api/test_access_log.py and
    tests/api/test_metrics.py hold FastAPI to that.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    if context is not None:
        return str(context.path_format)
    route = scope.get("route")
    return str(route.path_format) if route is not None else None


def documented_methods(openapi: dict[str, Any], path: str) -> set[str]:
    """The methods the OpenAPI document lists for the path template `path` matches.

    Starlette's 405 names only the methods of the first route whose path matched, and each
    method of a path is its own route here (`GET /users/me`, `PATCH /users/me`), so its `Allow`
    would leave the others out. Empty when no documented path matches.
    """
    for template, operations in openapi.get("paths", {}).items():
        pattern, _, _ = compile_path(template)
        if pattern.match(path):
            return {method.upper() for method in operations} & HTTP_METHODS
    return set()


def routed_methods(routes: Iterable[BaseRoute], path: str) -> set[str]:
    """The methods of the plain routes in `routes` whose template matches `path` (HEAD of a
    probe, say, which is served but not documented); routers included in `routes` are skipped."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return methods
