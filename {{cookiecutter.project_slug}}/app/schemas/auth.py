from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Long enough for any token we issue, short enough to refuse junk early.
MAX_TOKEN_LENGTH = 2048


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)
