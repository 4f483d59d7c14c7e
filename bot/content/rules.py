"""rules/: the materials each education path needs, per province, and the questions that find
the path. Facts are plain strings (fact name → value), so conditions stay data."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content.loader import ROOT, ContentError, load_dir, load_model
from bot.content.sources import Source

Condition = dict[str, tuple[str, ...]]  # fact → the values that satisfy it


def holds(condition: Condition, facts: Mapping[str, str]) -> bool:
    """Every fact named in the condition is known and has one of the listed values."""
    return all(facts.get(fact) in values for fact, values in condition.items())


def contradicts(condition: Condition, facts: Mapping[str, str]) -> bool:
    """Some fact named in the condition is known and has another value."""
    return any(fact in facts and facts[fact] not in values for fact, values in condition.items())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Option(_Frozen):
    value: str
    label: str
    words: tuple[str, ...] = ()
    in_notices: str | None = None  # the word the notices use for this value, where it differs


class Question(_Frozen):
    fact: str
    ask: str
    kind: Literal["choice", "date"] = "choice"
    options: tuple[Option, ...] = ()
    default: str | None = None

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Self:
        if (self.kind == "choice") != bool(self.options):
            raise ValueError("a choice question needs options; a date question has none")
        return self


class QuestionBook(_Frozen):
    start_words: tuple[str, ...] = Field(min_length=1)
    yes_words: tuple[str, ...] = ()
    no_words: tuple[str, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)

    def yes_or_no(self, text: str) -> str | None:
        """'yes' or 'no' for a bare reply such as 是 or 没有."""
        if text in self.yes_words:
            return "yes"
        return "no" if text in self.no_words else None

    def in_notices(self, fact: str, value: str) -> str:
        """How the notices write a fact's value (college → 专科)."""
        question = self.get(fact)
        option = (
            next((o for o in question.options if o.value == value), None) if question else None
        )
        return (option.in_notices or value) if option else value

    def get(self, fact: str) -> Question | None:
        return next((q for q in self.questions if q.fact == fact), None)


class Material(_Frozen):
    """A document to upload, named as the notice names it, with how to photograph it."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    how: str
    source: Source


class MaterialRef(_Frozen):
    """A material on a path's list, added only `when` its facts hold and dropped `unless`."""

    material: str
    when: Condition = Field(default_factory=dict)
    unless: Condition = Field(default_factory=dict)

    def applies(self, facts: Mapping[str, str]) -> bool:
        return holds(self.when, facts) and not (self.unless and holds(self.unless, facts))

    @property
    def facts_needed(self) -> tuple[str, ...]:
        return (*self.when, *self.unless)


class Check(_Frozen):
    """An eligibility rule of the notice: failing it means the candidate cannot apply this way.

    kind "fact": fails when `fact` has one of `fails_when`.
    kind "registered_before": the registration-date limit for 执业助理 → 执业医师, by the
    candidate's education, read from the province's notice in knowledge/.
    """

    kind: Literal["fact", "registered_before"]
    fact: str
    fails_when: tuple[str, ...] = ()
    says: str
    source: Source


class Note(_Frozen):
    text: str
    source: Source


class Path(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str  # as the notice heads the list
    facts: Condition
    materials: tuple[MaterialRef, ...] = ()
    checks: tuple[Check, ...] = ()
    notes: tuple[Note, ...] = ()
    source: Source


class ProvinceRules(_Frozen):
    province: str
    notice: str
    exam_year: int
    materials: tuple[Material, ...] = Field(min_length=1)
    paths: tuple[Path, ...] = Field(min_length=1)
    # How to photograph and upload, and the submit step, in this province's own words.
    upload: tuple[Note, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        known = {m.id for m in self.materials}
        for path in self.paths:
            missing = [r.material for r in path.materials if r.material not in known]
            if missing:
                raise ValueError(f"path '{path.id}' lists unknown materials {missing}")
        return self

    def material(self, material_id: str) -> Material:
        return next(m for m in self.materials if m.id == material_id)

    def path(self, path_id: str | None) -> Path | None:
        return next((p for p in self.paths if p.id == path_id), None)


@cache
def questions() -> QuestionBook:
    return load_model(ROOT / "rules" / "questions.yaml", QuestionBook)


@cache
def province_rules() -> dict[str, ProvinceRules]:
    """Every rules/<province>.yaml (not questions.yaml), keyed by province id, cross-checked."""
    found = {
        rules.province: rules
        for stem, rules in load_dir(ROOT / "rules" / "provinces", ProvinceRules).items()
    }
    book = questions()
    for rules in found.values():
        for path in rules.paths:
            facts = [
                *path.facts,
                *(f for r in path.materials for f in r.facts_needed),
                *(c.fact for c in path.checks),
            ]
            unknown = sorted({f for f in facts if book.get(f) is None})
            if unknown:
                raise ContentError(
                    f"rules/provinces: {rules.province} path '{path.id}' uses facts with no "
                    f"question in rules/questions.yaml: {unknown}"
                )
    return found
