"""The notices' facts as validated models: one knowledge/notices/<id>.yaml per notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bot.content.loader import ROOT, ContentError, load_dir
from bot.content.provinces import ProvinceTable, provinces
from bot.content.sources import Source

NOTICES_DIR = ROOT / "knowledge" / "notices"

# A WeChat text reply is capped at 2048 bytes; one fact must leave room for its citation
# and for other facts quoted alongside it, so each stays well under 600 bytes.
MAX_TEXT_BYTES = 450


def _short(text: str) -> str:
    """Rejects blank text and text too long to quote in one WeChat message."""
    size = len(text.encode("utf-8"))
    if not text.strip() or size > MAX_TEXT_BYTES:
        raise ValueError(f"must be non-blank and at most {MAX_TEXT_BYTES} bytes, is {size}")
    return text


Text = Annotated[str, AfterValidator(_short)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class _Frozen(BaseModel):
    """Base of every model here: immutable, and an unknown key is a typo, not data."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Stated(_Frozen):
    """A sentence as the notice states it, with where it says so."""

    text: Text
    source: Source


class Fact(Stated):
    """One of the notice's own rules, with an id stable enough for answers to point at."""

    id: Slug


class Event(Stated):
    """A step of the timeline; `text` is the timing as written, dates only where given."""

    id: Slug
    what: Text
    who: str | None = None  # None: every candidate; else e.g. 现役军人和部队文职人员
    start: dt.date | None = None
    end: dt.date | None = None


class ReviewMode(Stated):
    """How the review is held, for everyone (who=None) or for one group."""

    kind: Literal["online", "on_site", "online_and_on_site"]
    who: str | None = None


class Contact(_Frozen):
    """Whom to ask, every detail exactly as written; what the notice omits stays None."""

    name: str = Field(min_length=1)
    phone: str | None = None
    hours: str | None = None
    address: str | None = None
    url: str | None = None
    email: str | None = None
    wechat: str | None = None  # an official account's name or id, e.g. NMEC1985
    note: Text | None = None
    source: Source

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not any((self.phone, self.address, self.url, self.email, self.wechat, self.note)):
            raise ValueError("a contact needs a phone, address, url, email, wechat or note")
        return self


class Fee(Stated):
    """A charge with its amount in yuan; `text` is the sentence that sets it."""

    id: Slug
    item: str = Field(min_length=1)
    amount_yuan: int = Field(gt=0)


class Payment(_Frozen):
    """Fees and how to pay them."""

    fees: tuple[Fee, ...] = Field(min_length=1)
    platform: Stated | None = None  # e.g. 易宝支付
    methods: tuple[Stated, ...] = ()
    refund: Stated | None = None
    facts: tuple[Fact, ...] = ()


class RegistrationLimit(Stated):
    """The latest 执业助理 registration date that still allows sitting the 执业医师 exam."""

    education: Literal["专科", "中专"]
    registered_by: dt.date
    # None where the notice writes only "前", which does not settle whether that day counts.
    inclusive: bool | None = None
    exam_year: int


class SubmitStep(Stated):
    """How uploads are handed in: a 提交审核 button, or the system saving by itself."""

    mode: Literal["button", "auto_save"]


class MaterialList(_Frozen):
    """The materials one kind of candidate uploads, each item as the notice lists it."""

    id: Slug
    path: str = Field(min_length=1)  # the list's heading, e.g. 本科学历报考执业医师
    items: tuple[Text, ...] = Field(min_length=1)
    source: Source


class Notice(_Frozen):
    """One notice: metadata plus what it states; an absent field means the notice is silent."""

    title: str = Field(min_length=1)  # exact, as cited: 依据：《title》section
    issuer: str | None = None
    date: dt.date | None = None
    exam_year: int = Field(ge=2000, le=2100)
    province: str | None  # id in knowledge/provinces.yaml; None for a shared text
    attachments: dict[str, str] = {}  # label as numbered (附件1) -> attachment title
    shared_guide: str | None = None  # notice id holding the text of this notice's attachments
    review_modes: tuple[ReviewMode, ...] = ()
    timeline: tuple[Event, ...] = ()
    contacts: tuple[Contact, ...] = ()
    payment: Payment | None = None
    registration_limits: tuple[RegistrationLimit, ...] = ()
    submit_step: SubmitStep | None = None
    materials: tuple[MaterialList, ...] = ()
    facts: tuple[Fact, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Notice:
        keyed: list[Event | MaterialList | Fact | Fee] = [*self.timeline, *self.materials]
        keyed += [*self.all_facts(), *(self.payment.fees if self.payment else ())]
        ids = [x.id for x in keyed]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate ids: {', '.join(dupes)}")
        # Review dates fall in the exam year or the winter before it; anything else is a typo.
        for ev in self.timeline:
            days = [d for d in (ev.start, ev.end) if d]
            if any(d.year not in (self.exam_year - 1, self.exam_year) for d in days):
                raise ValueError(f"event '{ev.id}': {days} is not near exam year {self.exam_year}")
            if ev.start and ev.end and ev.end < ev.start:
                raise ValueError(f"event '{ev.id}': end {ev.end} is before start {ev.start}")
        for lim in self.registration_limits:
            if lim.exam_year != self.exam_year or lim.registered_by.year >= self.exam_year:
                raise ValueError(f"limit {lim.registered_by} does not fit {lim.exam_year}")
        return self

    def all_facts(self) -> tuple[Fact, ...]:
        """The notice's facts, payment facts included."""
        return (*self.facts, *(self.payment.facts if self.payment else ()))

    def fact(self, fact_id: str) -> Fact | None:
        """The fact with this id, if any."""
        return next((f for f in self.all_facts() if f.id == fact_id), None)

    def limit(self, education: str) -> RegistrationLimit | None:
        """The registration-date limit for 专科 or 中专, if the notice sets one."""
        return next((x for x in self.registration_limits if x.education == education), None)


def sources(node: object) -> Iterator[Source]:
    """Every Source inside a model, found by walking its fields (so new fields are covered)."""
    if isinstance(node, Source):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from sources(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from sources(item)


def check_references(found: Mapping[str, Notice], table: ProvinceTable) -> None:
    """Raises ContentError listing every dangling notice id and every province without a file."""
    problems: list[str] = []
    for nid, notice in found.items():
        at = f"knowledge/notices/{nid}.yaml"
        problems += [
            f"{at}: source '{s.section}' names unknown notice '{s.notice}'"
            for s in sources(notice)
            if s.notice not in found
        ]
        if notice.shared_guide is not None and notice.shared_guide not in found:
            problems.append(f"{at}: shared_guide '{notice.shared_guide}' has no notice file")
        province = table.get(notice.province)
        if notice.province is not None and province is None:
            problems.append(f"{at}: province '{notice.province}' is not in provinces.yaml")
        elif province is not None and province.notice != nid:
            problems.append(f"{at}: provinces.yaml gives {province.id} notice '{province.notice}'")
    problems += [
        f"knowledge/provinces.yaml: {p.id}'s notice '{p.notice}' has no file in knowledge/notices/"
        for p in table.provinces
        if p.notice not in found
    ]
    if problems:
        raise ContentError("\n".join(problems))


def load_notices(directory: Path = NOTICES_DIR) -> dict[str, Notice]:
    """Loads and validates every notice file in `directory`, keyed by file stem (its id)."""
    return load_dir(directory, Notice)


@cache
def notices() -> dict[str, Notice]:
    """All notices, loaded once and cross-checked; callers must not mutate the dict."""
    found = load_notices()
    check_references(found, provinces())
    return found
