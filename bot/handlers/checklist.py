"""材料清单: works out the candidate's path with a few questions, then keeps their checklist.

The flow asks one question at a time (numbered options), takes facts already given, accepts
「返回」「重新开始」 (「取消」 is the cancel handler's), answers an FAQ question asked mid-flow
and asks again; its state lives in the profile, so it resumes days later.
"""

from __future__ import annotations

import re

from bot import checklist
from bot.content.knowledge import Notice, notices
from bot.content.provinces import Province, provinces
from bot.content.rules import (
    Material,
    Option,
    Path,
    ProvinceRules,
    Question,
    province_rules,
    questions,
)
from bot.content.texts import texts
from bot.conversation import Context
from bot.handlers import faq
from bot.matching import matcher
from bot.store import FlowState

FLOW = "checklist"
PATH_PROVINCE = "path_province"  # the province whose notice the stored path comes from
BACK, RESTART = ("返回", "上一步"), ("重新开始", "重来")
# Linear: one number, then separator-and-number pairs (a nested repeat here backtracked
# exponentially on a long run of digits, freezing the worker).
_TICK = re.compile(
    r"^(?:完成|勾选|已备好)?\s*(\d{1,3}(?:[\s,，、和]+\d{1,3})*)\s*"
    r"(?:已备好|备好了|好了|完成|已完成|准备好了|搞定)?$"
)
_TICK_MAX_CHARS = 60
_DONE_WORDS = ("完成", "勾选", "备好", "好了", "搞定")


# -- predicates (the route table's) ----------------------------------------------------------
def in_flow(ctx: Context) -> bool:
    """A walk-through is in progress and the user said something (a photo goes its own way)."""
    return bool(ctx.text) and ctx.profile.flow is not None and ctx.profile.flow.name == FLOW


def asks_for_list(ctx: Context) -> bool:
    """「材料清单」, 「要准备什么材料」…: the checklist rather than one FAQ answer."""
    return any(word in ctx.text for word in questions().start_words)


def describes_path(ctx: Context) -> bool:
    """A statement of two or more path facts ("我是大专毕业已经拿到助理证，想考执医").

    One that asks something ("执助考执医注册时间有啥要求") is a question for the FAQ.
    """
    facts = checklist.extract(questions(), ctx.text)
    return len(facts.keys() - {"institution"}) >= 2 and not provinces().asks(ctx.text)


def ticks(ctx: Context) -> bool:
    text = ctx.text
    return (
        "path" in ctx.profile.facts
        and len(text) <= _TICK_MAX_CHARS
        and any(w in text for w in _DONE_WORDS)
        and bool(_TICK.match(text))
    )


# -- handlers ---------------------------------------------------------------------------------
def start(ctx: Context) -> str:
    """Starts (or restarts) the walk-through, keeping any facts the message itself gives."""
    ctx.profile.facts = checklist.extract(questions(), ctx.text)
    ctx.profile.checklist_done = []
    if provinces().get(ctx.profile.province) is None:
        # No flow without a province: every answer would only meet "which province?" again.
        ctx.profile.flow = None
        return texts().checklist_needs_province.format(served=provinces().served)
    ctx.profile.flow = FlowState(name=FLOW, step="")
    return _advance(ctx)


def resume(ctx: Context) -> str:
    """Takes the answer to the question asked, or handles 返回 / 重新开始 / an FAQ question."""
    flow = ctx.profile.flow
    assert flow is not None  # guaranteed by in_flow
    if ctx.text in RESTART:
        return start(ctx)
    if ctx.text in BACK:
        if flow.history:
            ctx.profile.facts.pop(flow.history.pop(), None)
        return _advance(ctx)
    named = provinces().exact(ctx.text)  # only a bare name: 「我在河北上的学」 is an answer
    if named is not None:
        ctx.profile.province = named.id
        return start(ctx)  # another province's notice: its own paths and questions
    return _take_answer(ctx, flow)


def show(ctx: Context) -> str:
    """The checklist with progress, or the start of the walk-through if there is none yet."""
    if checklist.extract(questions(), ctx.text).keys() - {"institution"}:
        return start(ctx)  # "本科要准备什么材料": a new description, not the old list
    rules, province = _rules(ctx)
    path = _path(ctx, rules) if rules else None
    if rules is None or province is None or path is None:
        return start(ctx)
    return _render(ctx, rules, province)


def tick(ctx: Context) -> str:
    """Marks the numbered materials as ready and shows what is left."""
    rules, _ = _rules(ctx)
    items = _materials(ctx, rules) if rules else []
    if not items:
        return texts().checklist_none_yet
    numbers = [int(n) for n in re.findall(r"\d+", ctx.text)]
    wrong = next((n for n in numbers if not 1 <= n <= len(items)), None)
    if wrong is not None:  # nothing is ticked from a batch that holds a wrong number
        return texts().checklist_bad_number.format(number=wrong, total=len(items))
    for number in numbers:
        if items[number - 1].id not in ctx.profile.checklist_done:
            ctx.profile.checklist_done.append(items[number - 1].id)
    return texts().checklist_ticked.format(
        progress=_progress(ctx, items), missing=_missing(ctx, items)
    )


def remaining(ctx: Context) -> str:
    """What is still missing from the candidate's checklist."""
    rules, _ = _rules(ctx)
    items = _materials(ctx, rules) if rules else []
    if not items:
        return texts().checklist_none_yet
    return f"进度 {_progress(ctx, items)}。\n{_missing(ctx, items)}"


# -- the flow ---------------------------------------------------------------------------------
def _take_answer(ctx: Context, flow: FlowState) -> str:
    rules, _ = _rules(ctx)
    step = (
        checklist.next_step(rules, questions(), _notice(ctx), ctx.profile.facts) if rules else None
    )
    if step is None or step.question is None or step.question.fact != flow.step:
        # Nothing is asked, or the rules changed since (a flow resumed days later): a number
        # would pick from other options than those shown, so ask what is missing now.
        return _advance(ctx)
    value = checklist.answer(questions(), step.question, step.options, ctx.text)
    given = {step.question.fact: value} if value else checklist.extract(questions(), ctx.text)
    if given:
        ctx.profile.facts.update(given)
        flow.history.extend(given)
        return _advance(ctx)
    ranking = matcher().rank(ctx.text)
    if ranking.confident:  # a question mid-flow: answer it, then ask ours again
        return faq.answer(ctx) + "\n\n" + _ask(step.question, step.options)
    return texts().checklist_not_understood.format(hint=_ask(step.question, step.options))


def _advance(ctx: Context) -> str:
    """Asks the next missing question, or ends the flow with the list or the reason it can't."""
    rules, province = _rules(ctx)
    if rules is None or province is None:
        return texts().checklist_needs_province.format(served=provinces().served)
    step = checklist.next_step(rules, questions(), _notice(ctx), ctx.profile.facts)
    if step.question is not None:
        assert ctx.profile.flow is not None
        ctx.profile.flow.step = step.question.fact
        return _ask(step.question, step.options)
    ctx.profile.flow = None
    if step.failed is not None:
        title = notices()[step.failed.source.notice].title
        return texts().checklist_not_eligible.format(
            says=step.failed.says, title=title, section=step.failed.source.section
        )
    if step.path is None:
        return texts().checklist_no_path.format(
            title=_notice(ctx).title, province=province.name, contact=faq.contact_of(province)
        )
    ctx.profile.facts["path"] = step.path.id
    ctx.profile.facts[PATH_PROVINCE] = province.id
    listed = _render(ctx, rules, province)
    if (limit := step.unclear) is not None:
        note = texts().checklist_limit_unclear.format(
            says=limit.text,
            title=notices()[limit.source.notice].title,
            section=limit.source.section,
            contact=faq.contact_of(province),
        )
        return note + "\n\n" + listed
    return listed


def _ask(question: Question, options: tuple[Option, ...]) -> str:
    if question.kind == "date":
        return texts().checklist_date_question.format(question=question.ask)
    lines = "\n".join(f"{i}. {o.label}" for i, o in enumerate(options, start=1))
    return texts().checklist_question.format(question=question.ask, options=lines)


# -- the list ---------------------------------------------------------------------------------
def _render(ctx: Context, rules: ProvinceRules, province: Province) -> str:
    path = rules.path(ctx.profile.facts.get("path"))
    assert path is not None
    items = _materials(ctx, rules)
    done = set(ctx.profile.checklist_done)
    lines = [
        f"{i}. {'✅' if m.id in done else '⬜'}{m.name}\n   拍摄：{m.how}"
        for i, m in enumerate(items, start=1)
    ]
    notes = "".join(f"注意：{n.text}\n" for n in path.notes)
    return texts().checklist.format(
        province_tag=f"【{province.name}】",
        path=path.name,
        done=len(done & {m.id for m in items}),
        total=len(items),
        items="\n".join(lines),
        notes=notes,
        upload="\n".join(n.text for n in rules.upload),
        title=notices()[path.source.notice].title,
        section=path.source.section,
    )


def _materials(ctx: Context, rules: ProvinceRules) -> list[Material]:
    path = _path(ctx, rules)
    return checklist.materials_for(rules, path, ctx.profile.facts, questions()) if path else []


def _progress(ctx: Context, items: list[Material]) -> str:
    done = sum(1 for m in items if m.id in ctx.profile.checklist_done)
    return f"{done}/{len(items)}"


def _missing(ctx: Context, items: list[Material]) -> str:
    left = [
        f"{i}. {m.name}"
        for i, m in enumerate(items, start=1)
        if m.id not in ctx.profile.checklist_done
    ]
    return (
        texts().checklist_missing.format(items="\n".join(left))
        if left
        else texts().checklist_all_done
    )


def _path(ctx: Context, rules: ProvinceRules) -> Path | None:
    """The path worked out for the user's current province (none after a change of province:
    path ids recur across provinces, but another notice's questions were never asked)."""
    if ctx.profile.facts.get(PATH_PROVINCE) != rules.province:
        return None
    return rules.path(ctx.profile.facts.get("path"))


def _rules(ctx: Context) -> tuple[ProvinceRules | None, Province | None]:
    province = provinces().get(ctx.profile.province)
    return (province_rules().get(province.id) if province else None), province


def _notice(ctx: Context) -> Notice:
    rules, _ = _rules(ctx)
    assert rules is not None
    return notices()[rules.notice]
