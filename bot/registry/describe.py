"""A review state in the candidate's words: for 「我的审核」, pushes and template fields."""

from __future__ import annotations

import datetime as dt

from bot.content.knowledge import Stated, notices
from bot.content.provinces import provinces
from bot.content.review import NextStep, PushTemplate, TemplateValue, review_texts
from bot.content.texts import texts
from bot.registry.models import BEIJING, Candidate, ReviewState

# WeChat's template field types and the most characters each takes.
FIELD_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "number": 32, "letter": 32}


def when(moment: dt.datetime | float) -> str:
    if isinstance(moment, float | int):
        moment = dt.datetime.fromtimestamp(moment, tz=BEIJING)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")


def lock_words(state: ReviewState) -> str:
    words = review_texts()
    if state.locked:
        return words.locked
    if state.correction_deadline is not None:
        return words.unlocked_until.format(deadline=when(state.correction_deadline))
    return words.unlocked


def lock_short(state: ReviewState) -> str:
    """The lock and the deadline in a template field's 20 characters."""
    words = review_texts().lock_short
    if state.locked:
        return words.locked
    if state.correction_deadline is not None:
        deadline = state.correction_deadline.astimezone(BEIJING).strftime("%m月%d日%H:%M")
        return words.unlocked_until.format(deadline=deadline)
    return words.unlocked


def next_step(state: ReviewState, province: str) -> NextStep:
    """The first step in knowledge/review.yaml whose conditions the state meets."""
    for step in review_texts().next_steps:
        c = step.when
        if (
            (c.status is None or c.status == state.status)
            and (c.locked is None or c.locked == state.locked)
            and (c.feedback is None or c.feedback == bool(state.feedback))
            and (c.payment is None or c.payment == state.payment)
            and (c.province is None or c.province == province)
        ):
            return step
    raise AssertionError("review.yaml's last step matches every state (checked at start)")


def summary(candidate: Candidate, *, reminder: bool = False) -> str:
    """What 「我的审核」 shows, and what a customer-service push says."""
    state, words = candidate.state, review_texts()
    step = next_step(state, candidate.province)
    deadline = state.correction_deadline
    lines = [
        texts().review_reminder if reminder else texts().review_heading,
        texts().review_registration.format(
            registration=candidate.registration,
            category=candidate.category,
            exam_point=candidate.exam_point,
        ),
        texts().review_status.format(stage=state.stage, status=words.statuses[state.status]),
        texts().review_lock.format(lock=lock_words(state)),
    ]
    if state.payment is not None:
        lines.append(texts().review_payment.format(payment=words.payment[state.payment]))
    if (latest := state.latest_feedback) is not None:
        lines.append(
            texts().review_feedback.format(
                at=when(latest.at), level=latest.level or "审核人员", text=latest.text
            )
        )
    clause = (
        words.deadline_clause.format(deadline=when(deadline))
        if deadline
        else words.no_deadline_clause
    )
    lines.append(texts().review_next.format(step=step.say.format(deadline_clause=clause)))
    quoted: list[Stated] = [q.stated() for q in step.quote] or [words.status_source.stated()]
    if step.submit_step and (submit := _submit_step(candidate.province)) is not None:
        quoted.append(submit)
    lines += [f"· {fact.text}" for fact in quoted if fact.text not in step.say]
    lines += sorted({_basis(fact) for fact in quoted})
    lines.append(texts().review_changed.format(at=when(candidate.changed_at)))
    return "\n".join(lines)


def _submit_step(province: str) -> Stated | None:
    found = provinces().get(province)
    return notices()[found.notice].submit_step if found else None


def _basis(fact: Stated) -> str:
    notice = notices()[fact.source.notice]
    return texts().basis.format(title=notice.title, section=fact.source.section)


def template_data(
    candidate: Candidate, template: PushTemplate, *, reminder: bool = False
) -> dict[str, dict[str, str]]:
    """The template's fields filled from the candidate's state, each cut to its type's limit."""
    state = candidate.state
    latest = state.latest_feedback
    values: dict[TemplateValue, str] = {
        "registration": candidate.registration,
        "name": candidate.name,
        "category": candidate.category,
        "status": state.status,
        "feedback": latest.text if latest else texts().review_no_feedback,
        "lock": lock_short(state) if not reminder else texts().review_reminder_short,
        "changed_at": when(candidate.changed_at),
        "reminder": texts().review_reminder_short if reminder else "",
    }
    return {
        field: {"value": _fit(field, values[source])} for field, source in template.fields.items()
    }


def _fit(field: str, value: str) -> str:
    kind = field.rstrip("0123456789")
    if kind == "time":
        return value
    limit = FIELD_LIMITS.get(kind, 20)
    return value if len(value) <= limit else value[: limit - 1] + "…"
