"""Working out a candidate's path and materials from the facts they give; no conversation here.

Facts are strings (rules/questions.yaml names them). The path is the one notice list whose facts
agree with the candidate's; the questions asked are only those whose answer tells the remaining
paths — or the chosen path's conditional materials and checks — apart.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.content.knowledge import Notice, RegistrationLimit
from bot.content.rules import (
    Check,
    Condition,
    Material,
    Option,
    Path,
    ProvinceRules,
    Question,
    QuestionBook,
    contradicts,
)

_DATE = re.compile(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})")


@dataclass(frozen=True)
class Next:
    """What the flow does next: ask a question, refuse (a check failed), or give the list."""

    question: Question | None = None
    options: tuple[Option, ...] = ()
    failed: Check | None = None
    path: Path | None = None
    # A registration date exactly on a limit whose notice leaves "（含）" open: not held
    # against the candidate, but said, so they confirm with their office.
    unclear: RegistrationLimit | None = None


def known(book: QuestionBook, facts: Mapping[str, str]) -> dict[str, str]:
    """The facts given, with each unasked default (e.g. not military) filled in."""
    defaults = {q.fact: q.default for q in book.questions if q.default is not None}
    return {**defaults, **facts}


def candidates(rules: ProvinceRules, facts: Mapping[str, str]) -> list[Path]:
    return [p for p in rules.paths if not contradicts(p.facts, facts)]


def next_step(
    rules: ProvinceRules, book: QuestionBook, notice: Notice, given: Mapping[str, str]
) -> Next:
    """The next question to ask, or the outcome once nothing is missing."""
    facts = known(book, given)
    paths = candidates(rules, facts)
    if not paths:
        return Next()
    if len(paths) > 1:
        for question in book.questions:
            options = _telling_options(question, [p.facts for p in paths])
            if question.fact not in facts and len(options) > 1:
                return Next(question, options)
    path = paths[0]
    used = _facts_used(path, facts)
    for question in book.questions:
        if question.fact not in facts and question.fact in used:
            return Next(question, question.options)
    failed = next((c for c in path.checks if fails(c, facts, notice, book)), None)
    unclear = next(
        (x for c in path.checks if (x := on_unclear_day(c, facts, notice, book)) is not None),
        None,
    )
    return Next(failed=failed, path=None if failed else path, unclear=unclear)


def materials_for(
    rules: ProvinceRules, path: Path, given: Mapping[str, str], book: QuestionBook
) -> list[Material]:
    facts = known(book, given)
    return [rules.material(r.material) for r in path.materials if r.applies(facts)]


def fails(check: Check, facts: Mapping[str, str], notice: Notice, book: QuestionBook) -> bool:
    if check.kind == "fact":
        return facts.get(check.fact) in check.fails_when
    found = _limit_and_date(check, facts, notice, book)
    if found is None:
        return False  # the notice states no limit for this education: nothing to hold against
    limit, registered = found
    if registered == limit.registered_by:
        return limit.inclusive is False  # （含）: fine; silent: not ours to refuse
    return registered > limit.registered_by


def on_unclear_day(
    check: Check, facts: Mapping[str, str], notice: Notice, book: QuestionBook
) -> RegistrationLimit | None:
    """The limit, when the date falls on its very day and the notice does not say （含）."""
    found = _limit_and_date(check, facts, notice, book)
    if found is None or check.kind == "fact":
        return None
    limit, registered = found
    return limit if registered == limit.registered_by and limit.inclusive is None else None


def _limit_and_date(
    check: Check, facts: Mapping[str, str], notice: Notice, book: QuestionBook
) -> tuple[RegistrationLimit, dt.date] | None:
    if check.kind == "fact":
        return None
    limit = notice.limit(book.in_notices("education", facts.get("education", "")))
    registered = parse_date(facts.get(check.fact, ""))
    return (limit, registered) if limit is not None and registered is not None else None


def extract(book: QuestionBook, text: str) -> dict[str, str]:
    """The facts a sentence states ("我是大专毕业已经拿到助理证，想考执医"), by each fact's words;
    where two options' words both appear, the longer (more specific) word decides."""
    found: dict[str, str] = {}
    for question in book.questions:
        hits = sorted(
            ((len(w), o.value) for o in question.options for w in o.words if w in text),
            reverse=True,
        )
        if hits and (len(hits) == 1 or hits[0][0] > hits[1][0] or hits[0][1] == hits[1][1]):
            found[question.fact] = hits[0][1]
    return found


def answer(
    book: QuestionBook, question: Question, options: tuple[Option, ...], text: str
) -> str | None:
    """The value a reply picks: an option's number, label or words; a date for a date question."""
    text = text.strip()
    if question.kind == "date":
        day = parse_date(text)
        return day.isoformat() if day else None
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1].value
    values = {o.value for o in options}
    if values == {"yes", "no"} and (bare := book.yes_or_no(text)):
        return bare
    picked = {o.value for o in options if text == o.label or any(w in text for w in o.words)}
    return picked.pop() if len(picked) == 1 else None


def parse_date(text: str) -> dt.date | None:
    match = _DATE.search(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text.strip())
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _telling_options(question: Question, conditions: list[Condition]) -> tuple[Option, ...]:
    """The options some remaining path allows, when the paths disagree on this fact."""
    allowed = [set(c[question.fact]) if question.fact in c else None for c in conditions]
    if all(a is None for a in allowed) or all(a == allowed[0] for a in allowed):
        return ()
    return tuple(o for o in question.options if any(a is None or o.value in a for a in allowed))


def _facts_used(path: Path, facts: Mapping[str, str]) -> set[str]:
    """Facts the path's materials and checks depend on (once their own conditions are met)."""
    used = {c.fact for c in path.checks}
    for ref in path.materials:
        if not contradicts(
            ref.when, facts
        ):  # a 中专-only material asks nothing of a 大专 candidate
            used.update(ref.facts_needed)
    return used
