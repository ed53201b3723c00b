"""Long-lived responses that the app may end early, even while a send to the client is stuck.

An ASGI send to a client that stopped reading waits for its socket to drain, which may be
never: the event hub drops such a stream (app/events/hub.py) and calls the abort this layer
put in the request's scope. The response is then cut off and uvicorn closes the connection
(logging "ASGI callable returned without completing response": the client is not reading, so
there is nobody to tell). Only the paths named here pay for the cancel scope.
"""

from collections.abc import Callable

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

# scope key: the callable that ends this request's response (SSE streams only).
ABORT_RESPONSE = "app.abort_response"


class AbortableResponseMiddleware:
    def __init__(self, app: ASGIApp, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        with anyio.CancelScope() as response:
            scope[ABORT_RESPONSE] = response.cancel
            await self.app(scope, receive, send)


def response_abort(scope: Scope) -> Callable[[], None] | None:
    """The abort for this request's response, where the middleware put one."""
    abort: Callable[[], None] | None = scope.get(ABORT_RESPONSE)
    return abort
