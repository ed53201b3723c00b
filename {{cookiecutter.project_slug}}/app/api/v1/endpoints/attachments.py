import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
{%- if cookiecutter.file_storage == "s3" %}
from fastapi.responses import RedirectResponse
{%- else %}
from fastapi.responses import StreamingResponse
{%- endif %}

from app.api.deps import AttachmentServiceDep, CurrentUser, SettingsDep
{%- if cookiecutter.file_storage == "local" %}
from app.core.files import content_disposition
{%- endif %}
from app.http.responses import error_responses
from app.http.uploads import incoming_file
from app.schemas.attachments import AttachmentListParams, AttachmentRead
from app.schemas.pagination import Page

router = APIRouter(prefix="/items/{item_id}/attachments", tags=["items"])
# The upload route reads and limits its body itself (UPLOAD_MAX_BYTES, while streaming): the
# app-wide MAX_BODY_BYTES middleware lets it through (app/main.py).
UPLOAD_PATH = re.compile(r"^/api/v1/items/[^/]+/attachments$")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 404, 413, 415, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_attachment(
    item_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    settings: SettingsDep,
    attachments: AttachmentServiceDep,
) -> AttachmentRead:
    """Attach a file (multipart field `file`) to one of your items."""
    file = await incoming_file(request, field="file", max_bytes=settings.upload_max_bytes)
    attachment = await attachments.upload(user, item_id, file.filename, file.chunks)
    return AttachmentRead.model_validate(attachment)


@router.get("", responses=error_responses(401, 404, 422, 429, 503))
async def list_attachments(
    item_id: uuid.UUID,
    params: Annotated[AttachmentListParams, Query()],
    user: CurrentUser,
    attachments: AttachmentServiceDep,
) -> Page[AttachmentRead]:
    """List the files attached to one of your items, newest first."""
    return Page[AttachmentRead].model_validate(await attachments.list(user, item_id, params))


{% if cookiecutter.file_storage == "s3" -%}
@router.get(
    "/{attachment_id}",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    response_class=RedirectResponse,
    responses=error_responses(401, 404, 422, 429, 503),
)
async def download_attachment(
    item_id: uuid.UUID,
    attachment_id: uuid.UUID,
    user: CurrentUser,
    attachments: AttachmentServiceDep,
) -> RedirectResponse:
    """Redirect to a short-lived link that downloads the file."""
    download = await attachments.download(user, item_id, attachment_id)
    return RedirectResponse(download.url, headers={"Cache-Control": "no-store"})
{%- else -%}
@router.get(
    "/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes."},
        **error_responses(401, 404, 422, 429, 503),
    },
)
async def download_attachment(
    item_id: uuid.UUID,
    attachment_id: uuid.UUID,
    user: CurrentUser,
    attachments: AttachmentServiceDep,
) -> StreamingResponse:
    """Download the file, always as an attachment (never rendered inline)."""
    download = await attachments.download(user, item_id, attachment_id)
    attachment = download.attachment
    headers = {
        "Content-Disposition": content_disposition(attachment.name),
        "Content-Length": str(attachment.size),
        "Cache-Control": "private, no-store",
        # Also set on every response; stated here because this one carries a client's bytes.
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(download.chunks, media_type=attachment.content_type, headers=headers)
{%- endif %}


@router.delete(
    "/{attachment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422, 429, 503),
)
async def delete_attachment(
    item_id: uuid.UUID,
    attachment_id: uuid.UUID,
    user: CurrentUser,
    attachments: AttachmentServiceDep,
) -> None:
    """Delete a file and its stored bytes."""
    await attachments.delete(user, item_id, attachment_id)
