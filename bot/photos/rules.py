"""The upload rules a photo is held to, and what a check finds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The byte limits and formats come from the notices (knowledge/photos.yaml, loaded by
# bot/content/photos.py). The pixel bounds are ours: the notices ask for 图像清晰 (upload guide
# 附件1 二(二)) and give no figure. A short side of 600 px and a long side of 1200 px keep an ID
# card or an A4 page's print readable; 1600 px is where fix() starts, as more pixels only cost
# JPEG quality within 200k.
MIN_SHORT_SIDE_PX = 600
MIN_LONG_SIDE_PX = 1200
MAX_LONG_SIDE_PX = 1600
# Not a rule of the exam system: a bound on what we decode (a 40 MP RGBA image is 160 MB).
MAX_PIXELS = 40_000_000


class Problem(StrEnum):
    """One way a photo breaks the upload rules."""

    TOO_LARGE = "too_large"
    WRONG_FORMAT = "wrong_format"
    ROTATED = "rotated"
    TOO_SMALL = "too_small"
    UNREADABLE = "unreadable"
    TOO_MANY_PIXELS = "too_many_pixels"


# What fix() cannot mend: there is nothing (or too much) to decode, or too few pixels to read.
BLOCKING = frozenset({Problem.TOO_SMALL, Problem.UNREADABLE, Problem.TOO_MANY_PIXELS})


@dataclass(frozen=True)
class PhotoRules:
    """The upload limits, passed in so that a new year's notice changes data, not code.

    Sizes are in bytes: the notices' "k" is read as KiB, as Windows shows file sizes."""

    max_bytes: int
    formats: frozenset[str]
    registration_max_bytes: int
    min_short_side_px: int = MIN_SHORT_SIDE_PX
    min_long_side_px: int = MIN_LONG_SIDE_PX
    max_long_side_px: int = MAX_LONG_SIDE_PX
    max_pixels: int = MAX_PIXELS

    def __post_init__(self) -> None:
        """Refuse limits that no photo could meet."""
        sides = (self.min_short_side_px, self.min_long_side_px, self.max_long_side_px)
        if min(self.max_bytes, self.registration_max_bytes, self.max_pixels, *sides) <= 0:
            raise ValueError("photo limits must be positive")
        if not self.min_short_side_px <= self.min_long_side_px <= self.max_long_side_px:
            raise ValueError("need min_short_side_px <= min_long_side_px <= max_long_side_px")
        if not self.formats or "jpeg" not in self.formats:
            raise ValueError("formats must include jpeg, the format fix() writes")


@dataclass(frozen=True)
class Verdict:
    """What check() found: the photo's real format and size, and its problems."""

    format: str | None  # "jpeg", "png", another detected name, or None when unknown
    size_bytes: int
    width: int  # as shown, after the EXIF orientation; 0 when unknown
    height: int
    problems: tuple[Problem, ...]
    fixable: bool  # fix() can make a copy that passes (also True when nothing is wrong)

    @property
    def ok(self) -> bool:
        """Whether the photo can be uploaded as it is."""
        return not self.problems


class PhotoNotFixable(ValueError):
    """fix() was given a photo it cannot mend; the verdict says why."""

    def __init__(self, verdict: Verdict) -> None:
        """Keep the verdict; the message names the problems only, never the content."""
        super().__init__(f"photo cannot be fixed: {', '.join(verdict.problems) or 'no fit'}")
        self.verdict = verdict


def byte_limit(rules: PhotoRules, registration_photo: bool) -> int:
    """The largest allowed file size: 不超过200k includes 200k; 30K must be under."""
    return rules.registration_max_bytes - 1 if registration_photo else rules.max_bytes
