"""Where a fact comes from: a notice and its section, shown under every answer."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# 二、（七） where the house style is 二(七): one style under every answer, as the offices cite.
_NUMERAL = "[一二三四五六七八九十]"
_OTHER_STYLE = re.compile(f"{_NUMERAL}、（{_NUMERAL}+）|（[一二三四五六七八九十\\d]+）")


class Source(BaseModel):
    """A citation: the notice's id (its file in knowledge/notices/) and the section quoted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str = Field(pattern=r"^[a-z0-9-]+$")
    section: str = Field(
        min_length=1, description="as the notice numbers it, e.g. 二(七) or 附件3 问题5"
    )

    @field_validator("section")
    @classmethod
    def _one_style(cls, section: str) -> str:
        if found := _OTHER_STYLE.search(section):
            raise ValueError(f"write {found.group(0)} as the notices are cited: 二(七), 1、(一)")
        return section
