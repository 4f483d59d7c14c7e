"""Loads and cross-checks every data file once, so a broken one stops the start."""

from __future__ import annotations

from bot.content.faq import faq_entries
from bot.content.knowledge import notices
from bot.content.loader import ContentError
from bot.content.menu import menu
from bot.content.photos import photo_rules
from bot.content.provinces import provinces
from bot.content.review import push_template, review_texts
from bot.content.rules import province_rules, questions
from bot.content.texts import texts
from bot.matching import matcher


def load_all() -> None:
    """Validates every data file and the references between them; raises ContentError."""
    texts()
    menu()
    review_texts()
    push_template()
    photo_rules()
    check_faq_references()
    check_rules_references()
    matcher()  # the synonyms dictionary, and jieba's warm-up (about a second) before any user


def check_rules_references() -> None:
    """Every province has rules, citing notices we hold, for the province they name."""
    known, table, rules = notices(), provinces(), province_rules()
    questions()
    problems = [
        f"rules/provinces: no rules for {p.id}" for p in table.provinces if p.id not in rules
    ]
    for province, found in rules.items():
        cited = [
            found.notice,
            *(m.source.notice for m in found.materials),
            *(p.source.notice for p in found.paths),
            *(n.source.notice for n in found.upload),
        ]
        problems += [
            f"rules/provinces: {province} cites unknown notice '{n}'"
            for n in cited
            if n not in known
        ]
    if problems:
        raise ContentError("\n".join(problems))


def check_faq_references() -> None:
    """Every FAQ answer cites a notice we hold and names only provinces we serve."""
    known, table = notices(), provinces()
    problems = []
    for entry in faq_entries():
        cited = [entry.source] if entry.source else []
        cited += [answer.source for answer in entry.by_province.values()]
        problems += [
            f"faq entry '{entry.id}': cites unknown notice '{s.notice}'"
            for s in cited
            if s.notice not in known
        ]
        problems += [
            f"faq entry '{entry.id}': unknown province '{p}'"
            for p in (*entry.by_province, *entry.silent)
            if table.get(p) is None
        ]
    if problems:
        raise ContentError("\n".join(problems))
