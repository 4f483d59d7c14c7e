"""Checking a candidate's photo against the upload rules, and making a copy that meets them.

Pure and in memory: bytes in, a Verdict or JPEG bytes out. Nothing here logs, keeps or sends the
image or anything read from it (EXIF can hold the place a photo was taken).

The limits come in as a PhotoRules from the caller (bot/content/photos.py builds it from the
notices).
"""

from bot.photos.encode import fix
from bot.photos.probe import check
from bot.photos.rules import (
    PhotoNotFixable,
    PhotoRules,
    Problem,
    Verdict,
)

__all__ = [
    "PhotoNotFixable",
    "PhotoRules",
    "Problem",
    "Verdict",
    "check",
    "fix",
]
