"""The logs: how much, and for whom."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from impressox.settings.env import env_alias as _env


class LogsSettings(BaseModel):
    """The logs: how much, and for whom."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("log_level"), description="Least severe level logged."
    )
    log_format: Literal["auto", "console", "json"] = Field(
        "auto",
        validation_alias=_env("log_format"),
        description="Log lines for people (console) or machines (json); auto picks by terminal.",
    )
