from typing import Literal

from pydantic import BaseModel, ConfigDict

CheckResult = Literal["ok", "unavailable"]
ReadinessStatus = Literal["ok", "degraded", "unavailable"]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: ReadinessStatus
    checks: dict[str, CheckResult]
