"""Where a fact comes from: a notice and its section, shown under every answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Source(BaseModel):
    """A citation: the notice's id (its file in knowledge/notices/) and the section quoted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str = Field(pattern=r"^[a-z0-9-]+$")
    section: str = Field(
        min_length=1, description="as the notice numbers it, e.g. 二(七) or 附件3 问题5"
    )
