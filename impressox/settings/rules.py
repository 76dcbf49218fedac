"""The rule engine: snapshots and warm-up."""

from __future__ import annotations

from pydantic import BaseModel, Field

from impressox.settings.env import env_alias as _env


class RulesSettings(BaseModel):
    """The rule engine: snapshots and warm-up."""

    rules_snapshot_s: float = Field(
        60.0, gt=0, validation_alias=_env("rules_snapshot_s"),
        description="How often the rule engine saves a snapshot of the rules it knows, so a"
        " restart reads only the rules' log after it.",
    )  # fmt: skip
    rules_warmup_s: float = Field(
        300.0, ge=0, validation_alias=_env("rules_warmup_s"),
        description="Ticks a starting rule engine replays (seconds before its last handled"
        " tick) to restore previous prices and windows; windows longer than this refill.",
    )  # fmt: skip
