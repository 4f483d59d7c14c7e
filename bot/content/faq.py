"""FAQ entries: candidates' questions, answered from the notices for all or for each province."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from bot.content.loader import ROOT, ContentError, load_dir
from bot.content.sources import Source

# A WeChat text reply carries at most 2048 bytes of UTF-8, and the bot appends a citation line
# (about 80 bytes) under every answer: an answer must leave room for it to go out as one message.
REPLY_BYTES = 2048
CITATION_BYTES = 80


def _fits_one_reply(text: str) -> str:
    """Refuses an answer that would not fit one WeChat reply together with its citation line."""
    size = len(text.encode("utf-8"))
    if size + CITATION_BYTES > REPLY_BYTES:
        raise ValueError(f"answer is {size} bytes; with its citation it must fit {REPLY_BYTES}")
    return text


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
AnswerText = Annotated[Text, AfterValidator(_fits_one_reply)]
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
# Same shape as Province.id. That it names a province we serve is checked against provinces.yaml
# in tests, so this model loads without it.
ProvinceId = Annotated[str, StringConstraints(pattern=r"^[a-z]+$")]


class CitedAnswer(BaseModel):
    """An answer and the notice section it is quoted from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer: AnswerText
    source: Source


class FaqEntry(BaseModel):
    """One question, the ways candidates phrase it, and its answer(s) quoted from the notices."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: EntryId
    topic: Text  # written once at the top of its file (see FaqFile)
    title: Text  # shown in "您是不是想问：" lists, so a short question
    phrasings: tuple[Text, ...] = Field(min_length=3)
    keywords: tuple[Text, ...] = Field(min_length=1)
    # Either one answer that holds for every province (the shared 考生服务系统操作指南/答疑)...
    answer: AnswerText | None = None
    source: Source | None = None
    # ...or one per province, where the notices differ.
    by_province: dict[ProvinceId, CitedAnswer] = Field(default_factory=dict)
    # Provinces whose notice was read and says nothing on this. Listing them makes an absence from
    # by_province a decision rather than an oversight; the bot then says the notice is silent
    # instead of borrowing another province's rule.
    silent: tuple[ProvinceId, ...] = ()

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        """Requires exactly one of the two forms, and silence only beside per-province answers."""
        shared = self.answer is not None or self.source is not None
        if shared == bool(self.by_province):
            raise ValueError("give either answer + source or by_province, not both or neither")
        if shared and (self.answer is None or self.source is None):
            raise ValueError("a shared answer needs both answer and source")
        if shared and self.silent:
            raise ValueError("silent belongs to a by_province entry; a shared answer covers all")
        if both := sorted(set(self.silent) & self.by_province.keys()):
            raise ValueError(f"provinces both answered and silent: {', '.join(both)}")
        return self

    @property
    def varies_by_province(self) -> bool:
        """Whether the answer depends on the candidate's province."""
        return bool(self.by_province)

    def answer_for(self, province: str | None) -> CitedAnswer | None:
        """The answer for `province`; None when its notice is silent or no province is given."""
        if self.answer is not None and self.source is not None:
            return CitedAnswer(answer=self.answer, source=self.source)
        return self.by_province.get(province) if province else None


class FaqFile(BaseModel):
    """One faq/*.yaml: a topic and the entries filed under it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: Text
    entries: tuple[FaqEntry, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _topic_into_entries(cls, raw: Any) -> Any:
        """Gives each entry its file's topic."""
        # The topic is written once per file rather than on every entry, where copies could drift;
        # entries still carry it so callers never need to know which file an entry came from.
        if isinstance(raw, dict) and isinstance(raw.get("entries"), list):
            topic = raw.get("topic")
            entries = [{**e, "topic": topic} if isinstance(e, dict) else e for e in raw["entries"]]
            return {**raw, "entries": entries}
        return raw


def load_faq(directory: Path) -> tuple[FaqEntry, ...]:
    """Loads every *.yaml in `directory`, refusing an entry id used twice anywhere among them."""
    first_seen: dict[str, str] = {}
    entries: list[FaqEntry] = []
    for stem, faq_file in load_dir(directory, FaqFile).items():
        where = f"{directory.name}/{stem}.yaml"
        for entry in faq_file.entries:
            if entry.id in first_seen:
                raise ContentError(
                    f"{where}: entry '{entry.id}' id: already used in {first_seen[entry.id]}"
                )
            first_seen[entry.id] = where
            entries.append(entry)
    return tuple(entries)


@cache
def faq_entries() -> tuple[FaqEntry, ...]:
    """Every entry under faq/, loaded and checked once per process."""
    return load_faq(ROOT / "faq")


@cache
def faq_entry(entry_id: str) -> FaqEntry | None:
    return next((e for e in faq_entries() if e.id == entry_id), None)
