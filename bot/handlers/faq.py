"""Free-text questions, answered from the notices for the user's province, each with its source.

A confident match is answered (asking the province first when the notices differ and it is
unknown); near misses get "您是不是想问" with numbered choices; anything else gets a plain
"no answer", 人工 and the exam office's contact — never an invented answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from bot.content.faq import CitedAnswer, FaqEntry, faq_entry
from bot.content.knowledge import notices
from bot.content.provinces import Province, provinces
from bot.content.texts import texts
from bot.conversation import Context
from bot.matching import matcher
from bot.store import Pending

PENDING_SECONDS = 600  # a numbered question older than this is no longer what "2" answers


def answer(ctx: Context) -> str:
    """Answers a question, or offers the near matches, or says plainly there is no answer."""
    ctx.profile.pending = None  # a new question: an earlier numbered choice no longer applies
    ranking = matcher().rank(ctx.text)
    if ranking.confident and ranking.best is not None:
        return _answer_entry(ctx, ranking.best.entry, _province_for(ctx))
    question = _redacted(matcher().normalize.fold(ctx.text))
    ctx.services.store.count_unanswered(ctx.profile.province, question)
    near = ranking.near()
    if not near:
        return _no_answer(ctx)
    ctx.profile.pending = Pending(
        kind="faq_choice", options=[e.id for e in near], asked_at=time.time()
    )
    return texts().faq_did_you_mean.format(choices=_numbered(e.title for e in near))


# Six or more digits in a row may be an ID, phone or 报名号: offices read the gaps, so such runs
# are kept only as their length.
_NUMBER_RUN = re.compile(r"[0-9]{6,}[0-9xX]?")


def _redacted(question: str) -> str:
    return _NUMBER_RUN.sub(lambda m: "#" * len(m.group()), question)


def awaits_choice(ctx: Context) -> bool:
    """The user is answering the numbered question the bot just asked."""
    pending = ctx.profile.pending
    return (
        pending is not None
        and time.time() - pending.asked_at < PENDING_SECONDS
        and _chosen(ctx, pending) is not None
    )


def resolve_choice(ctx: Context) -> str:
    """Answers the entry the user picked, or the waiting entry for the province they picked."""
    pending = ctx.profile.pending
    assert pending is not None  # guaranteed by awaits_choice
    ctx.profile.pending = None
    choice = _chosen(ctx, pending) or ""
    if pending.kind == "province_for_faq":
        ctx.profile.province = choice
        entry = faq_entry(pending.entry or "")
        return _answer_entry(ctx, entry, choice) if entry else texts().cancelled
    entry = faq_entry(choice)
    return _answer_entry(ctx, entry, _province_for(ctx)) if entry else texts().cancelled


def _answer_entry(ctx: Context, entry: FaqEntry, province_id: str | None) -> str:
    if not entry.varies_by_province:
        cited = entry.answer_for(None)
        assert cited is not None  # a shared entry always has its answer
        return _cite(cited, tag="")
    province = provinces().get(province_id)
    if province is None:
        return _ask_province(ctx, entry)
    cited = entry.answer_for(province.id)
    if cited is None:
        return _silent(ctx, entry, province)
    return _cite(cited, tag=f"【{province.name}】")


def _ask_province(ctx: Context, entry: FaqEntry) -> str:
    served = provinces().provinces
    ctx.profile.pending = Pending(
        kind="province_for_faq",
        options=[p.id for p in served],
        entry=entry.id,
        asked_at=time.time(),
    )
    return texts().faq_ask_province.format(choices=_numbered(p.name for p in served))


def _cite(cited: CitedAnswer, tag: str) -> str:
    notice = notices()[cited.source.notice]
    return texts().faq_answer.format(
        province_tag=tag,
        answer=cited.answer.strip(),
        title=notice.title,
        section=cited.source.section,
    )


def _silent(ctx: Context, entry: FaqEntry, province: Province) -> str:
    return texts().faq_silent.format(
        title=notices()[province.notice].title,
        question=entry.title,
        province=province.name,
        contact=contact_of(province),
    )


def _no_answer(ctx: Context) -> str:
    question = ctx.text if len(ctx.text) <= 30 else ctx.text[:30] + "…"
    province = provinces().get(_province_for(ctx))
    return texts().no_answer.format(question=question, contact=contact_of(province))


def contact_of(province: Province | None) -> str:
    """How to reach the province's exam office, in its notice's words ('' when it gives none)."""
    if province is None or not (contacts := notices()[province.notice].contacts):
        return ""
    office = next((c for c in contacts if c.phone), contacts[0])
    if office.phone and office.hours:
        return texts().contact_phone.format(
            name=office.name, phone=office.phone, hours=office.hours
        )
    if office.phone:
        return texts().contact_phone_no_hours.format(name=office.name, phone=office.phone)
    return texts().contact_note.format(note=office.note) if office.note else ""


def _province_for(ctx: Context) -> str | None:
    """The province a question names ("石家庄考点…"), else the user's own."""
    named = provinces().mentioned_in(ctx.text)
    return named.id if named else ctx.profile.province


def _chosen(ctx: Context, pending: Pending) -> str | None:
    text = ctx.text.strip()
    if text.isdigit() and 1 <= int(text) <= len(pending.options):
        return pending.options[int(text) - 1]
    if pending.kind == "province_for_faq":
        named = provinces().chosen_in(text)
        return named.id if named and named.id in pending.options else None
    return None


def _numbered(lines: Iterable[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))
