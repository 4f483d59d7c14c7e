"""fix(): an upright, metadata-free JPEG that meets the rules, readable text kept."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from PIL import Image

from bot.photos.probe import UPRIGHT, check, orientation_of
from bot.photos.rules import PhotoNotFixable, PhotoRules, byte_limit

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
            orientation = orientation_of(img)
            rgb = _to_rgb(img)
    except Exception:  # check() decoded it; a failure now (memory, say) is still no crash
        return None
    target = _scaled(rgb.size, start)
    if rgb.size != target:
        # reducing_gap: box-reduce by an integer factor first, then Lanczos: fast and sharp.
        smaller = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        rgb.close()
        rgb = smaller
    if orientation in UPRIGHT:
        upright = rgb.transpose(UPRIGHT[orientation])
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
    limit = byte_limit(rules, registration_photo)
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
