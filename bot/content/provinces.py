"""The provinces we serve, and how a user's words name one."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from bot.content.loader import ROOT, load_model

# Longer messages that name a province are questions about it, not the user saying theirs.
DECLARATION_CHARS = 20
CHOICE_CHARS = 12


class Province(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z]+$")
    name: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    notice: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class ProvinceTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provinces: tuple[Province, ...] = Field(min_length=1)
    other_regions: tuple[str, ...] = ()
    declarations: tuple[str, ...] = ()
    question_markers: tuple[str, ...] = ()

    @property
    def served(self) -> str:
        """The provinces we serve, as a user reads them: 江西、辽宁、河北、四川."""
        return "、".join(p.name for p in self.provinces)

    def get(self, province_id: str | None) -> Province | None:
        return next((p for p in self.provinces if p.id == province_id), None)

    def mentioned_in(self, text: str) -> Province | None:
        """The province a message names, preferring the longest name (石家庄考点 over 石家庄)."""
        hits = [(len(n), p) for p in self.provinces for n in p.names if len(n) > 1 and n in text]
        return max(hits, key=lambda hit: hit[0])[1] if hits else None

    def exact(self, text: str) -> Province | None:
        """The province a message is nothing but the name of, single-character aliases included."""
        return next((p for p in self.provinces if text in p.names), None)

    def declared_in(self, text: str) -> bool:
        """Whether a message tells us the user's province: a bare name (河北, 上海省), or a
        short statement naming one (我是河北考生), not a question about it (河北的缴费…)."""
        if self.exact(text) or text.removesuffix("省") in self.other_regions:
            return True
        named = self.mentioned_in(text) or self.unserved_in(text)
        return named is not None and len(text) <= DECLARATION_CHARS and self.declares(text)

    def chosen_in(self, text: str) -> Province | None:
        """The province a reply to "which province?" names: the bare name, or a short reply
        holding it (河北的, 我在石家庄); a long message is a new question instead."""
        if found := self.exact(text):
            return found
        return self.mentioned_in(text) if len(text) <= CHOICE_CHARS else None

    def unserved_in(self, text: str) -> str | None:
        """A region we have no notice for, named in the message."""
        return next((r for r in self.other_regions if r in text), None)

    def declares(self, text: str) -> bool:
        """Whether a sentence says which province the user belongs to (not just mentions one)."""
        return any(w in text for w in self.declarations) and not self.asks(text)

    def asks(self, text: str) -> bool:
        """Whether a sentence is a question (吗, 什么, 怎么, ？…) rather than a statement."""
        return any(q in text for q in self.question_markers)


@cache
def provinces() -> ProvinceTable:
    return load_model(ROOT / "knowledge" / "provinces.yaml", ProvinceTable)
