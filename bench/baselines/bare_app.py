"""The least FastAPI can do: one route answering the same JSON as the template's /health/live."""

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}
