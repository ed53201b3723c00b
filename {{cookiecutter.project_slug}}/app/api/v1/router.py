"""Every v1 route, under /api/v1, each counted against the default rate limit."""

from fastapi import APIRouter, Depends

from app.api.rate_limit import default_rate_limit
from app.api.v1.endpoints import {% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}attachments, {% endif %}auth, {% if cookiecutter.example_resource %}items, {% endif %}users

api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(default_rate_limit)])
# In reading order; `make resource` appends each new resource's router below.
api_router.include_router(auth.router)
api_router.include_router(users.router)
{%- if cookiecutter.example_resource %}
api_router.include_router(items.router)
{%- endif %}
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
api_router.include_router(attachments.router)
{%- endif %}
