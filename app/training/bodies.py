"""Request bodies of the training API (validated by pydantic on the way in)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.training.streaks import ZONES


class TimeSpentIn(BaseModel):
    """Optional JSON body of mark-read."""

    model_config = ConfigDict(extra="forbid")

    time_spent: int = Field(..., ge=1, le=3600, description="Seconds spent reading (1-3600).")


class PreferencesIn(BaseModel):
    """Preferences to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    tz: str | None = Field(
        None,
        max_length=64,
        description="IANA time zone for streaks.",
        examples=["Europe/Berlin"],
        json_schema_extra={"enum": list[JsonValue](ZONES)},
    )
    leaderboard_opt_out: bool | None = Field(
        None, description="Hide me from other students' leaderboards."
    )
