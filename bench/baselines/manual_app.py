"""The template's two busiest reads written by hand: decode the JWT, plain asyncpg, return JSON.

No ORM, no session, no transaction, no middleware: the floor the template is compared with.
Both routes check the token's user like the template does (exists, active, same token version).
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

USER_QUERY = (
    "SELECT id, email, full_name, role, is_active, token_version, created_at, updated_at"
    " FROM users WHERE id = $1"
)
# The page and the total in one round trip; ordered like the template's default sort.
ITEMS_QUERY = (
    "SELECT id, title, description, owner_id, created_at, updated_at, count(*) OVER () AS total"
    " FROM items WHERE owner_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
)
COUNT_QUERY = "SELECT count(*) FROM items WHERE owner_id = $1"
MAX_LIMIT = 100
UNAUTHORIZED = JSONResponse({"detail": "unauthorized"}, status_code=401)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The same pool size as the template's default, and the same explicit "no TLS" on loopback.
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=1, max_size=10, ssl="disable"
    )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def _claims(request: Request) -> dict[str, Any] | None:
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
    ok = isinstance(claims.get("sub"), str) and claims.get("type") == "access"
    return claims if ok else None


async def _user(request: Request, conn: asyncpg.Connection) -> asyncpg.Record | None:
    claims = _claims(request)
    if claims is None:
        return None
    row: asyncpg.Record | None = await conn.fetchrow(USER_QUERY, claims["sub"])
    if row is None or not row["is_active"] or row["token_version"] != claims.get("ver"):
        return None
    return row


def _json(row: asyncpg.Record, *names: str) -> dict[str, Any]:
    body = {name: row[name] for name in names}
    for key in ("id", "owner_id"):
        if key in body:
            body[key] = str(body[key])
    body["created_at"] = row["created_at"].isoformat()
    body["updated_at"] = row["updated_at"].isoformat()
    return body


@app.get("/api/v1/users/me")
async def read_me(request: Request) -> JSONResponse:
    async with request.app.state.pool.acquire() as conn:
        user = await _user(request, conn)
    if user is None:
        return UNAUTHORIZED
    return JSONResponse(_json(user, "id", "email", "full_name", "role", "is_active"))


@app.get("/api/v1/items")
async def list_items(request: Request, limit: int = 20, offset: int = 0) -> JSONResponse:
    limit = max(1, min(limit, MAX_LIMIT))
    async with request.app.state.pool.acquire() as conn:
        user = await _user(request, conn)
        if user is None:
            return UNAUTHORIZED
        rows = await conn.fetch(ITEMS_QUERY, user["id"], limit, offset)
        # Past the last page the window count has no row to ride on: count on its own.
        total = rows[0]["total"] if rows else await conn.fetchval(COUNT_QUERY, user["id"])
    fields = ("id", "title", "description", "owner_id")
    items = [_json(row, *fields) for row in rows]
    return JSONResponse({"results": items, "total": total, "limit": limit, "offset": offset})
