"""Checking a candidate's photo against the upload rules, and making a copy that meets them.

Pure and in memory: bytes in, a Verdict or JPEG bytes out. Nothing here logs, keeps or sends the
image or anything read from it (EXIF can hold the place a photo was taken).

The limits come in as a PhotoRules from the caller; DEFAULT_RULES is built from the notices.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image

# Upload guide (knowledge/notices/upload-guide.yaml) 附件1 二(二) and 附件3 问题3:
# 文件应使用jpg/jpeg/png格式……单个照片文件大小不超过200k; 附件3 问题4: phone photos are about
# 1500kb, so most need shrinking. "k" is read as KiB, as Windows shows sizes.
MAX_BYTES = 200 * 1024
FORMATS = frozenset({"jpeg", "png"})
# 附件3 问题11: the 报名照片 (小二寸白底证件照) must be under 30K after the 照片检测工具 saves it.
REGISTRATION_MAX_BYTES = 30 * 1024
# 图像清晰 (附件1 二(二)) in pixels: the notices give no figure; these are ours. A short side of
# 600 px and a long side of 1200 px keep an ID card or an A4 page's print readable; 1600 px is
# where fix() starts, as more pixels only cost JPEG quality within 200k.
MIN_SHORT_SIDE_PX = 600
MIN_LONG_SIDE_PX = 1200
MAX_LONG_SIDE_PX = 1600
# Not a rule of the exam system: a bound on what we decode (a 40 MP RGBA image is 160 MB).
MAX_PIXELS = 40_000_000

# JPEG qualities tried, best first; below 40 ringing starts to eat small print.
_QUALITIES = tuple(range(90, 39, -5))
# Only when the smallest allowed size at quality 40 is still too big (pathological noise).
_LAST_RESORT_QUALITIES = (30, 20)
# The notice's own advice for the 报名照片 is 按比例缩小: prefer scaling over blocky faces.
_REGISTRATION_MIN_QUALITY = 60
# A lower bound for the registration photo's search only; the notices give no pixel size.
_REGISTRATION_MIN_LONG_SIDE_PX = 200
# The scale search aims at this share of the byte limit and stops at any fit above the next.
_AIM = 0.975
_CLOSE_ENOUGH = 0.95
_SCALE_STEPS = 8

_ORIENTATION_TAG = 0x0112
# EXIF orientation → the transpose that shows the image as the camera meant (as
# ImageOps.exif_transpose does); kept here so check() and fix() read the tag the same way.
_UPRIGHT = {
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


class Problem(StrEnum):
    """One way a photo breaks the upload rules."""

    TOO_LARGE = "too_large"
    WRONG_FORMAT = "wrong_format"
    ROTATED = "rotated"
    TOO_SMALL = "too_small"
    UNREADABLE = "unreadable"
    TOO_MANY_PIXELS = "too_many_pixels"


# What fix() cannot mend: there is nothing (or too much) to decode, or too few pixels to read.
_BLOCKING = frozenset({Problem.TOO_SMALL, Problem.UNREADABLE, Problem.TOO_MANY_PIXELS})


@dataclass(frozen=True)
class PhotoRules:
    """The upload limits, passed in so that a new year's notice changes data, not code."""

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


DEFAULT_RULES = PhotoRules(
    max_bytes=MAX_BYTES, formats=FORMATS, registration_max_bytes=REGISTRATION_MAX_BYTES
)


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
    if len(data) > _byte_limit(rules, registration_photo):
        found.add(Problem.TOO_LARGE)
    if probe.format is not None and probe.format not in rules.formats:
        # An undecodable file in a format we refuse anyway (HEIC, PDF) is reported as the wrong
        # format alone: "send a JPG" is what the candidate can act on.
        found.add(Problem.WRONG_FORMAT)
    elif probe.status is _Status.UNREADABLE:
        found.add(Problem.UNREADABLE)
    if probe.status is _Status.TOO_MANY_PIXELS:
        found.add(Problem.TOO_MANY_PIXELS)
    if probe.orientation in _UPRIGHT:
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
        fixable=probe.status is _Status.DECODED and not _BLOCKING.intersection(problems),
    )


def fix(data: bytes, rules: PhotoRules, *, registration_photo: bool = False) -> bytes:
    """An upright, metadata-free JPEG of the photo that passes check(); PhotoNotFixable if none.

    The quality is lowered first (90 → 40) at the long side capped to max_long_side_px; only if
    that is not enough is the photo scaled down, never below min_long_side_px (nor the short side
    below min_short_side_px). A registration photo keeps its proportions and goes under
    registration_max_bytes; the candidate must still run it through the official 照片检测工具.
    A photo that already passes is re-encoded too, so that its metadata never leaves.
    """
    verdict = check(data, rules, registration_photo=registration_photo)
    if not verdict.fixable:
        raise PhotoNotFixable(verdict)
    base = _decode_for_fix(data, rules, registration_photo)
    if base is None:
        raise PhotoNotFixable(verdict)
    try:
        out = _encode_within(base, rules, registration_photo)
    finally:
        base.close()
    if out is None:
        raise PhotoNotFixable(verdict)
    result = check(out, rules, registration_photo=registration_photo)
    if result.problems:  # a safety net: the search above should make this unreachable
        raise PhotoNotFixable(result)
    return out


def _byte_limit(rules: PhotoRules, registration_photo: bool) -> int:
    """The largest allowed file size: 不超过200k includes 200k; 30K must be under."""
    return rules.registration_max_bytes - 1 if registration_photo else rules.max_bytes


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


def _orientation(img: Image.Image) -> int:
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
        orientation = _orientation(img)
    if orientation in _SWAPS_SIDES:
        width, height = height, width
    return _Probe(fmt, width, height, orientation, _Status.DECODED)


def _scaled(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size with its long side set to long_side, proportions kept."""
    width, height = size
    factor = long_side / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def _long_side_bounds(
    size: tuple[int, int], rules: PhotoRules, registration_photo: bool
) -> tuple[int, int]:
    """The long sides fix() starts at and may shrink to."""
    longest, shortest = max(size), min(size)
    if registration_photo:
        start = min(longest, rules.max_long_side_px)
        return start, min(start, _REGISTRATION_MIN_LONG_SIDE_PX)
    # The long side at which the short side is exactly its minimum: a long narrow page (a
    # receipt, a screenshot) must stay longer than min_long_side_px to keep its width readable.
    keeps_short = math.ceil(rules.min_short_side_px * longest / shortest)
    start = min(longest, max(rules.max_long_side_px, keeps_short))
    return start, min(start, max(rules.min_long_side_px, keeps_short))


def _decode_for_fix(
    data: bytes, rules: PhotoRules, registration_photo: bool
) -> Image.Image | None:
    """The photo upright, in RGB on white, no metadata, long side at fix()'s starting size."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            start, _ = _long_side_bounds(img.size, rules, registration_photo)
            # A JPEG decodes straight at 1/2, 1/4 or 1/8 scale (no larger than needed): a 12 MP
            # phone photo then costs 9 MB and a quarter of the work instead of 36 MB.
            img.draft(None, _scaled(img.size, start))
            img.load()
            orientation = _orientation(img)
            rgb = _to_rgb(img)
    except Exception:  # check() decoded it; a failure now (memory, say) is still no crash
        return None
    target = _scaled(rgb.size, start)
    if rgb.size != target:
        # reducing_gap: box-reduce by an integer factor first, then Lanczos: fast and sharp.
        smaller = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        rgb.close()
        rgb = smaller
    if orientation in _UPRIGHT:
        upright = rgb.transpose(_UPRIGHT[orientation])
        rgb.close()
        rgb = upright
    # Derived images carry the source's info (comment, XMP, ICC, EXIF); the JPEG writer would
    # copy the comment, and none of it should leave.
    rgb.info.clear()
    return rgb


def _to_rgb(img: Image.Image) -> Image.Image:
    """The image as RGB, any transparency flattened onto white (as a page would be)."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        rgba.close()
        return flat
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey (a scanner's PNG): plain convert() clips it to white, so scale it to 8 bits.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("RGB")
    return img.convert("RGB")


def _encode(img: Image.Image, quality: int) -> bytes:
    """Baseline JPEG; optimize trims a few percent off the Huffman tables."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _encode_within(base: Image.Image, rules: PhotoRules, registration_photo: bool) -> bytes | None:
    """The best encoding of base within the byte limit: quality first, then scale."""
    limit = _byte_limit(rules, registration_photo)
    min_quality = _REGISTRATION_MIN_QUALITY if registration_photo else _QUALITIES[-1]
    qualities = tuple(q for q in _QUALITIES if q >= min_quality)
    out, smallest = _best_quality(lambda q: _encode(base, q), qualities, limit)
    if out is not None:
        return out
    start, floor = _long_side_bounds(base.size, rules, registration_photo)
    if floor < start:
        out = _largest_scale(base, floor, smallest, limit, qualities[-1])
        if out is not None:
            return out
    at_floor = _resized(base, floor)
    try:
        return next(
            (b for q in _LAST_RESORT_QUALITIES if len(b := _encode(at_floor, q)) <= limit), None
        )
    finally:
        if at_floor is not base:
            at_floor.close()


def _best_quality(
    encode: Callable[[int], bytes], qualities: tuple[int, ...], limit: int
) -> tuple[bytes | None, int]:
    """The highest quality that fits (binary search), else None and the size at the lowest."""
    first = encode(qualities[0])
    if len(first) <= limit:
        return first, len(first)
    lowest = encode(qualities[-1])
    if len(lowest) > limit:
        return None, len(lowest)
    best, too_big, fits = lowest, 0, len(qualities) - 1
    while fits - too_big > 1:
        mid = (too_big + fits) // 2
        out = encode(qualities[mid])
        if len(out) <= limit:
            best, fits = out, mid
        else:
            too_big = mid
    return best, len(best)


def _resized(base: Image.Image, long_side: int) -> Image.Image:
    """base with its long side set to long_side (base itself when already that size)."""
    size = _scaled(base.size, long_side)
    if size == base.size:
        return base
    return base.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _largest_scale(
    base: Image.Image, floor: int, size_at_start: int, limit: int, quality: int
) -> bytes | None:
    """The encoding at (about) the largest long side in [floor, start) that fits this quality."""
    fits, too_big = floor, max(base.size)
    best: bytes | None = None
    side, size = too_big, size_at_start
    for _ in range(_SCALE_STEPS):
        # JPEG size goes roughly with the pixel count, so each guess from the last measurement
        # lands near the limit: two or three encodings, where bisection takes five or six.
        guess = round(side * math.sqrt(_AIM * limit / size))
        side = min(max(guess, fits if best is None else fits + 1), too_big - 1)
        img = _resized(base, side)
        out = _encode(img, quality)
        if img is not base:
            img.close()
        size = len(out)
        if size <= limit:
            best, fits = out, side
            if size >= _CLOSE_ENOUGH * limit:
                break
        elif best is None and side <= floor:
            return None  # even the floor is too big at this quality
        else:
            too_big = side
        if too_big - fits <= 1:
            break
    return best
