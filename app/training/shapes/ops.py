"""Operations shapes: liveness and readiness."""

from __future__ import annotations

from typing import Literal

from pydantic import with_config
from typing_extensions import TypedDict

from app.training.shapes.base import SHAPE


@with_config(SHAPE)
class HealthOut(TypedDict):
    """Liveness."""

    status: Literal["ok"]


@with_config(SHAPE)
class ReadyOut(TypedDict):
    """Readiness per dependency."""

    status: Literal["ready", "degraded", "unavailable"]
    mongodb: Literal["ok", "down"]
    redis: Literal["ok", "down"]
