"""bot.photos on generated photos: time and peak memory of check() and fix().

    python -m bench.photo_bench                     # ~15 s; --runs N (default 15)

Cases: "phone", a 4000×3000 phone-like photo of a page (~1.5 MB at quality 95, EXIF orientation
6, text, light grain: what 附件3 问题4 describes); "grainy", the same size with heavy grain, so
that quality alone is not enough and fix() also scales; "registration", a 600×800 white-backed
portrait over 30K, fixed as the 报名照片.

Each case runs in a fresh process (spawned), so that the RSS high-water mark before it holds
only the interpreter, Pillow and the input bytes; the photos are generated in another process.
Memory is reported two ways, as they see different things: tracemalloc's peak counts Python
allocations (the encoded bytes, buffers), not Pillow's pixel memory, which is malloc'd in C;
the RSS delta (getrusage ru_maxrss after minus before the first check()+fix()) counts both.
Times are medians over --runs after that first run (the decoders are then warm).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import platform
import resource
import statistics
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, features

from bot.content.photos import photo_rules
from bot.photos import check, fix


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    registration_photo: bool


@dataclass(frozen=True)
class Result:
    name: str
    input_bytes: int
    input_size: tuple[int, int]  # as shown
    output_bytes: int
    output_size: tuple[int, int]
    check_ms: float  # medians
    fix_ms: float
    both_ms: float
    both_max_ms: float
    tracemalloc_peak: int  # bytes
    rss_delta: int  # bytes


def _paper(size: tuple[int, int], sigma: float, grain: int) -> Image.Image:
    """Off-white paper with gaussian grain made at 1/grain scale (so it survives downscaling)."""
    small = (max(1, size[0] // grain), max(1, size[1] // grain))
    noise = Image.effect_noise(small, sigma).resize(size, Image.Resampling.BILINEAR)
    light = noise.point(lambda v: min(255, v + 100))
    return Image.merge("RGB", (light, light, noise.point(lambda v: min(255, v + 90))))


def _jpeg(img: Image.Image, quality: int, exif: bytes = b"") -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def _phone_page(sigma: float, grain: int) -> bytes:
    """A 3000×4000 page as shown, stored turned to 4000×3000 with EXIF orientation 6."""
    shown = _paper((3000, 4000), sigma, grain)
    draw = ImageDraw.Draw(shown)
    draw.rectangle((0, 0, 2999, 299), fill="black")
    font = ImageFont.load_default(size=72)
    for i in range(12):
        text = f"Line {i:02d} Medical Licensing Exam certificate 110101199001011234"
        draw.text((150, 1000 + i * 250), text, fill=(20, 20, 20), font=font)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg(shown.transpose(Image.Transpose.ROTATE_90), 95, exif.tobytes())


def _registration() -> bytes:
    """A 600×800 portrait-like shape on white, textured so it is well over 30K."""
    img = Image.new("RGB", (600, 800), "white")
    mask = Image.new("L", (600, 800), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((180, 120, 420, 420), fill=255)
    draw.ellipse((60, 430, 540, 1100), fill=255)
    img.paste(_paper((600, 800), 12, 1), mask=mask)
    return _jpeg(img, 95)


def make_cases() -> list[Case]:
    """The benchmark's inputs (run in a child process: generating them costs memory)."""
    return [
        Case("phone", _phone_page(sigma=1, grain=4), False),
        Case("grainy", _phone_page(sigma=40, grain=3), False),
        Case("registration", _registration(), True),
    ]


def _max_rss() -> int:
    """The process's RSS high-water mark in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(case: Case, runs: int) -> Result:
    """Time and memory of check() then fix() on one case, in this (fresh) process."""
    rules, reg = photo_rules(), case.registration_photo
    rss_before = _max_rss()
    verdict = check(case.data, rules, registration_photo=reg)
    out = fix(case.data, rules, registration_photo=reg)
    rss_delta = _max_rss() - rss_before

    tracemalloc.start()
    check(case.data, rules, registration_photo=reg)
    fix(case.data, rules, registration_photo=reg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    check_ms, fix_ms, both_ms = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        check(case.data, rules, registration_photo=reg)
        t1 = time.perf_counter()
        fix(case.data, rules, registration_photo=reg)
        t2 = time.perf_counter()
        check_ms.append((t1 - t0) * 1000)
        fix_ms.append((t2 - t1) * 1000)
        both_ms.append((t2 - t0) * 1000)
    with Image.open(io.BytesIO(out)) as fixed:
        out_size = fixed.size
    return Result(
        name=case.name,
        input_bytes=len(case.data),
        input_size=(verdict.width, verdict.height),
        output_bytes=len(out),
        output_size=out_size,
        check_ms=statistics.median(check_ms),
        fix_ms=statistics.median(fix_ms),
        both_ms=statistics.median(both_ms),
        both_max_ms=max(both_ms),
        tracemalloc_peak=peak,
        rss_delta=rss_delta,
    )


def main() -> None:
    """Generate the photos, measure each case in its own process, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per case (median)")
    args = parser.parse_args()

    spawn = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        cases = pool.submit(make_cases).result()
    results = []
    for case in cases:
        # A fresh process per case: ru_maxrss only ever grows, so a shared one would hide the
        # later cases' peaks behind the first's.
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            results.append(pool.submit(measure, case, args.runs).result())

    turbo = features.check_feature("libjpeg_turbo")
    print(
        f"Python {platform.python_version()}, Pillow {Image.__version__}"
        f" (libjpeg-turbo: {turbo}), {os.cpu_count()} CPUs; median of {args.runs} runs\n"
    )
    header = (
        f"{'case':<13}{'input':>16}{'output':>16}{'check':>9}{'fix':>9}"
        f"{'both':>9}{'max':>9}{'tracemalloc':>13}{'RSS Δ':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        size_in = f"{r.input_bytes / 1024:.0f}K {r.input_size[0]}×{r.input_size[1]}"
        size_out = f"{r.output_bytes / 1024:.0f}K {r.output_size[0]}×{r.output_size[1]}"
        print(
            f"{r.name:<13}{size_in:>16}{size_out:>16}"
            f"{r.check_ms:>7.0f}ms{r.fix_ms:>7.0f}ms{r.both_ms:>7.0f}ms{r.both_max_ms:>7.0f}ms"
            f"{r.tracemalloc_peak / 2**20:>11.1f}MB{r.rss_delta / 2**20:>7.1f}MB"
        )
    print("\nboth = check() then fix() (fix() runs check() itself, on the input and the output).")


if __name__ == "__main__":
    main()
