"""The words of the photo check's answers, from its verdicts (knowledge/replies.yaml)."""

from __future__ import annotations

from bot.content.texts import texts
from bot.photos import PhotoRules, Problem, Verdict


def accepted(verdict: Verdict, rules: PhotoRules, registration_photo: bool) -> str:
    if registration_photo:
        return texts().photo_ok_registration.format(
            size_kb=_kb(verdict), limit_kb=rules.registration_max_bytes // 1024
        )
    return texts().photo_ok.format(
        format=(verdict.format or "").upper(),
        size_kb=_kb(verdict),
        width=verdict.width,
        height=verdict.height,
    )


def fixed(before: Verdict, after: Verdict, rules: PhotoRules, registration_photo: bool) -> str:
    if registration_photo:
        return texts().photo_fixed_registration.format(
            original_kb=_kb(before),
            size_kb=_kb(after),
            limit_kb=rules.registration_max_bytes // 1024,
        )
    return texts().photo_fixed.format(
        problems=problems(before, rules),
        size_kb=_kb(after),
        width=after.width,
        height=after.height,
    )


def unfixable(verdict: Verdict, rules: PhotoRules) -> str:
    return texts().photo_unfixable.format(problems=problems(verdict, rules))


def problems(verdict: Verdict, rules: PhotoRules) -> str:
    t = texts()
    words = {
        Problem.TOO_LARGE: t.photo_problem_too_large,
        Problem.WRONG_FORMAT: t.photo_problem_wrong_format,
        Problem.ROTATED: t.photo_problem_rotated,
        Problem.TOO_SMALL: t.photo_problem_too_small,
        Problem.UNREADABLE: t.photo_problem_unreadable,
        Problem.TOO_MANY_PIXELS: t.photo_problem_too_many_pixels,
    }
    return "\n".join(
        "· "
        + words[p].format(
            size_kb=_kb(verdict),
            limit_kb=rules.max_bytes // 1024,
            format=verdict.format or "未知",
            width=verdict.width,
            height=verdict.height,
        )
        for p in verdict.problems
    )


def _kb(verdict: Verdict) -> int:
    return round(verdict.size_bytes / 1024)
