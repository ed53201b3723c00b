"""Which route a request matched, as declared: the label for logs, metrics and spans."""

from starlette.types import Scope


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
