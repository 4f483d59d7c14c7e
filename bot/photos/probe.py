"""check(): what a photo is, by its bytes, and what is wrong with it for the upload."""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image

from bot.photos.rules import BLOCKING, PhotoRules, Problem, Verdict, byte_limit

_ORIENTATION_TAG = 0x0112
# EXIF orientation → the transpose that shows the image as the camera meant (as
# ImageOps.exif_transpose does); kept here so check() and fix() read the tag the same way.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = frozenset({5, 6, 7, 8})
# HEIF brands at offset 8 of an ftyp box at offset 4. Pillow cannot open HEIC, so the name comes
# from here; an AVIF (which Pillow does open) is named by Pillow before this is consulted.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF8", "gif"),
    (b"%PDF-", "pdf"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


class _Status(StrEnum):
    DECODED = "decoded"
    UNREADABLE = "unreadable"
    TOO_MANY_PIXELS = "too_many_pixels"


@dataclass(frozen=True)
class _Probe:
    format: str | None
    width: int  # as shown
    height: int
    orientation: int
    status: _Status


def check(data: bytes, rules: PhotoRules, *, registration_photo: bool = False) -> Verdict:
    """Check a photo against the rules; never raises for bad input."""
    probe = _probe(data, rules.max_pixels)
    found: set[Problem] = set()
    if len(data) > byte_limit(rules, registration_photo):
        found.add(Problem.TOO_LARGE)
    if probe.format is not None and probe.format not in rules.formats:
        # An undecodable file in a format we refuse anyway (HEIC, PDF) is reported as the wrong
        # format alone: "send a JPG" is what the candidate can act on.
        found.add(Problem.WRONG_FORMAT)
    elif probe.status is _Status.UNREADABLE:
        found.add(Problem.UNREADABLE)
    if probe.status is _Status.TOO_MANY_PIXELS:
        found.add(Problem.TOO_MANY_PIXELS)
    if probe.orientation in UPRIGHT:
        found.add(Problem.ROTATED)
    # The registration photo is small by design; its checks are the official tool's.
    too_small = 0 < min(probe.width, probe.height) < rules.min_short_side_px
    if probe.status is _Status.DECODED and too_small and not registration_photo:
        found.add(Problem.TOO_SMALL)
    problems = tuple(p for p in Problem if p in found)
    return Verdict(
        format=probe.format,
        size_bytes=len(data),
        width=probe.width,
        height=probe.height,
        problems=problems,
        fixable=probe.status is _Status.DECODED and not BLOCKING.intersection(problems),
    )


def _name(pillow_format: str | None) -> str | None:
    """Our name for Pillow's format: lower case, and MPO (a JPEG phones write) as jpeg."""
    if pillow_format is None:
        return None
    name = pillow_format.lower()
    # MPO is a JPEG with more pictures appended (depth maps, previews); any JPEG reader shows it.
    return "jpeg" if name == "mpo" else name


def _sniff(data: bytes) -> str | None:
    """The format named by the first bytes, for files Pillow cannot (or may not) open."""
    if data[4:8] == b"ftyp":
        return "heic" if data[8:12] in _HEIF_BRANDS else "avif" if data[8:12] == b"avif" else None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def orientation_of(img: Image.Image) -> int:
    """The EXIF orientation tag, 1 (as is) when absent or unreadable."""
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
        return int(value)
    except Exception:  # a corrupt EXIF block: viewers then show the pixels as stored
        return 1


def _probe(data: bytes, max_pixels: int) -> _Probe:
    """Open and decode the photo cheaply enough to know its format, size and readability."""
    sniffed = _sniff(data)
    try:
        img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (or its warning, where warnings are errors) is above ours.
        return _Probe(sniffed, 0, 0, 1, _Status.TOO_MANY_PIXELS)
    except Exception:  # decoders raise many types on hostile bytes; all mean "cannot read"
        return _Probe(sniffed, 0, 0, 1, _Status.UNREADABLE)
    with img:
        fmt = _name(img.format) or sniffed
        width, height = img.size
        # Checked before load() so a small file claiming a huge size never allocates it; this is
        # our own limit, leaving Image.MAX_IMAGE_PIXELS for other code as it was.
        if width * height > max_pixels:
            return _Probe(fmt, width, height, 1, _Status.TOO_MANY_PIXELS)
        try:
            # A JPEG decodes at 1/8 scale: every block is still read, so truncation shows.
            img.draft(None, (max(1, width // 8), max(1, height // 8)))
            img.load()
        except Exception:  # truncated or corrupt data
            return _Probe(fmt, width, height, 1, _Status.UNREADABLE)
        orientation = orientation_of(img)
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    return _Probe(fmt, width, height, orientation, _Status.DECODED)
