"""How a review state is explained (knowledge/review.yaml) and how a push fills its template
(knowledge/push.yaml): data, checked at start against the notices they quote."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.content.knowledge import Stated, notices
from bot.content.loader import ROOT, ContentError, load_model

StatusName = Literal["填报", "考点通过", "审核通过", "审核拒绝"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Quote(_Frozen):
    """A fact (or fee) of a notice, by ids: its text is shown with 依据."""

    notice: str
    fact: str

    def stated(self) -> Stated:
        notice = notices()[self.notice]
        fees = notice.payment.fees if notice.payment else ()
        found = notice.fact(self.fact) or next((f for f in fees if f.id == self.fact), None)
        if found is None:
            raise ContentError(f"knowledge: notice '{self.notice}' has no fact '{self.fact}'")
        return found


class When(_Frozen):
    status: StatusName | None = None
    locked: bool | None = None
    feedback: bool | None = None
    payment: Literal["待缴费", "已缴费"] | None = None
    province: str | None = None


class NextStep(_Frozen):
    when: When
    say: str = Field(min_length=1)
    quote: tuple[Quote, ...] = ()
    submit_step: bool = False  # also quote the candidate's province's submit step


class LockShort(_Frozen):
    locked: str = Field(max_length=20)
    unlocked: str = Field(max_length=20)
    unlocked_until: str = Field(max_length=20)


class ReviewTexts(_Frozen):
    statuses: dict[StatusName, str]
    status_source: Quote
    locked: str
    unlocked: str
    unlocked_until: str
    lock_short: LockShort
    payment: dict[Literal["待缴费", "已缴费"], str]
    next_steps: tuple[NextStep, ...] = Field(min_length=1)
    deadline_clause: str
    no_deadline_clause: str

    def check(self) -> None:
        """Every quoted fact exists; every status has words; the last step catches all."""
        for quote in (self.status_source, *(q for s in self.next_steps for q in s.quote)):
            quote.stated()
        missing = set(StatusName.__args__) - set(self.statuses)  # type: ignore[attr-defined]
        if missing:
            raise ContentError(f"knowledge/review.yaml: no words for {sorted(missing)}")
        if self.next_steps[-1].when != When():
            raise ContentError("knowledge/review.yaml: the last next step must have `when: {}`")


TemplateValue = Literal[
    "registration", "name", "category", "status", "feedback", "lock", "changed_at", "reminder"
]


class PushTemplate(_Frozen):
    """The template message: its id (the account's own) and which value fills which field.

    Field names say their type (thing, phrase, character_string, time…), and WeChat limits each
    type's length; values are cut to fit. There is no `first` or `remark`: the platform dropped
    them in 2023 and ignores what is sent there.
    """

    template_id: str | None = None
    url: str | None = None
    fields: dict[str, TemplateValue] = Field(min_length=1)

    def check(self) -> None:
        if bad := sorted(f for f in self.fields if f in ("first", "remark")):
            raise ContentError(f"knowledge/push.yaml: the platform removed fields {bad}")


@cache
def review_texts() -> ReviewTexts:
    loaded = load_model(ROOT / "knowledge" / "review.yaml", ReviewTexts)
    loaded.check()
    return loaded


@cache
def push_template() -> PushTemplate:
    loaded = load_model(ROOT / "knowledge" / "push.yaml", PushTemplate)
    loaded.check()
    return loaded
