import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.schemas.pagination import PageParams


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    content_type: str
    size: int
    created_at: datetime


class AttachmentListParams(PageParams):
    pass
