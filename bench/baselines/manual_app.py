"""GET /api/v1/users/me written by hand: decode the JWT, one asyncpg query, return JSON.

No ORM, no session, no transaction, no middleware: the floor the template is compared with.
Reads DATABASE_URL (a plain postgresql:// DSN), SECRET_KEY, JWT_ISSUER and JWT_AUDIENCE.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jose import JOSEError, jwt

QUERY = (
    "SELECT id, email, full_name, role, is_active, created_at, updated_at FROM users WHERE id = $1"
)
UNAUTHORIZED = JSONResponse({"detail": "unauthorized"}, status_code=401)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=5)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def _subject(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            os.environ["SECRET_KEY"],
            algorithms=["HS256"],
            audience=os.environ["JWT_AUDIENCE"],
            issuer=os.environ["JWT_ISSUER"],
        )
    except JOSEError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and claims.get("type") == "access" else None


@app.get("/api/v1/users/me")
async def read_me(request: Request) -> JSONResponse:
    subject = _subject(request)
    if subject is None:
        return UNAUTHORIZED
    row = await request.app.state.pool.fetchrow(QUERY, subject)
    if row is None or not row["is_active"]:
        return UNAUTHORIZED
    body = dict(row)
    body["id"] = str(body["id"])
    body["created_at"] = body["created_at"].isoformat()
    body["updated_at"] = body["updated_at"].isoformat()
    return JSONResponse(body)
