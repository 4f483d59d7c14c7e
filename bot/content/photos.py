"""The photo self-check's limits (knowledge/photos.yaml), checked against the notices they
rest on and handed to bot/photos as a PhotoRules."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.content.loader import ROOT, ContentError, load_model
from bot.content.review import Quote
from bot.photos import PhotoRules


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Limit(_Frozen):
    max_kb: int = Field(gt=0)
    basis: Quote  # the notice's fact that states the limit

    def check(self) -> None:
        """The fact must still say this number (200k, 30K), or data and notice have drifted."""
        said = self.basis.stated().text.lower()
        if f"{self.max_kb}k" not in said:
            raise ContentError(
                f"knowledge/photos.yaml: {self.max_kb}k is not what fact "
                f"'{self.basis.fact}' of '{self.basis.notice}' says"
            )


class MaterialLimit(Limit):
    formats: frozenset[Literal["jpeg", "png"]] = Field(min_length=1)


class PhotoLimits(_Frozen):
    materials: MaterialLimit
    registration_photo: Limit


@cache
def photo_rules() -> PhotoRules:
    limits = load_model(ROOT / "knowledge" / "photos.yaml", PhotoLimits)
    limits.materials.check()
    limits.registration_photo.check()
    return PhotoRules(
        max_bytes=limits.materials.max_kb * 1024,
        formats=frozenset(limits.materials.formats),
        registration_max_bytes=limits.registration_photo.max_kb * 1024,
    )
