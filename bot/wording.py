"""How a candidate's words are read before the FAQ is searched (faq/matching/dictionary.yaml).

Candidates type in chat: traditional characters, full-width digits, abbreviations (执医, 网报),
homophone slips (许可正, 试用其), fillers inside terms (试用期的那个考核证明), sizes (29k). A
question is read in these steps: traditional → simplified (OpenCC); Unicode NFKC and lower case;
homophone slips of domain terms mended by their pinyin; fillers dropped between Chinese
characters; variants rewritten to one canonical word until nothing changes; a quoted size read
as the limit it is near. The FAQ's own texts are read the same way, so both sides meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pypinyin import lazy_pinyin

# A rewrite can complete another variant (咋开 → 怎么开 → 开具); three passes settle every pair
# of dictionary terms (checked over all of them), so the loop never runs on.
REWRITE_PASSES = 3


class SizeBand(BaseModel):
    """File sizes up to `up_to_kb` read as the limit they are measured against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    up_to_kb: float = Field(gt=0)
    word: str = Field(min_length=1)


class Dictionary(BaseModel):
    """faq/matching/dictionary.yaml: synonyms, domain words, fillers, sizes and stopwords."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    synonyms: dict[str, tuple[str, ...]] = Field(min_length=1)
    words: tuple[str, ...] = ()
    fillers: tuple[str, ...] = ()
    sizes: tuple[SizeBand, ...] = ()
    stopwords: frozenset[str] = frozenset()

    @model_validator(mode="after")
    def _bands_in_order(self) -> Dictionary:
        limits = [band.up_to_kb for band in self.sizes]
        if limits != sorted(set(limits)):
            raise ValueError("sizes: up_to_kb must rise from one band to the next")
        return self


class Normalizer:
    """Turns what a candidate typed into the words the index knows."""

    def __init__(self, dictionary: Dictionary) -> None:
        self._t2s = opencc.OpenCC("t2s")
        # 试用期的考核证明, 试用期那个考核证明: fillers dropped between two Chinese characters
        # let the words around them meet their synonym (试用期考核证明). Variants lose them too,
        # or 什么样的人能报 would never be met.
        fillers = "|".join(map(re.escape, sorted(dictionary.fillers, key=len, reverse=True)))
        self._fillers = (
            re.compile(f"(?<={_HAN})(?:{fillers})(?={_HAN})") if dictionary.fillers else None
        )
        canonical = {
            self._unfilled(variant): word
            for word, variants in dictionary.synonyms.items()
            for variant in variants
        }
        protected = {w: w for w in (*dictionary.synonyms, *dictionary.words)}
        self._rewrites = {**canonical, **protected}
        alternatives = sorted(self._rewrites, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives)))
        self._by_sound = self._homophones(protected)
        self.stopwords = dictionary.stopwords
        self._sizes = dictionary.sizes

    def fold(self, text: str) -> str:
        """Simplified characters, half-width forms, lower case, single spaces."""
        folded = unicodedata.normalize("NFKC", self._t2s.convert(text)).lower()
        return " ".join(folded.split())

    def __call__(self, text: str) -> str:
        text = self._unfilled(self._mend_slips(self.fold(text)))
        # Again until nothing changes (at most a few passes): a rewrite can complete a longer
        # variant, as 咋开 → 怎么开 → 开具 and 审和到哪步 → 审核到哪步 → 审核状态.
        for _ in range(REWRITE_PASSES):
            rewritten = self._pattern.sub(lambda m: self._rewrites[m.group(0)], text)
            if rewritten == text:
                break
            text = rewritten
        return _SIZE.sub(self._size_word, text) if self._sizes else text

    def _unfilled(self, text: str) -> str:
        return self._fillers.sub("", text) if self._fillers is not None else text

    def _size_word(self, match: re.Match[str]) -> str:
        """230k → 200k, 29k → 30k: a size is asked about against the limit it is near."""
        kb = float(match.group(1)) * (1024 if match.group(2) == "m" else 1)
        band = next((b for b in self._sizes if kb <= b.up_to_kb), None)
        return band.word if band else match.group(0)

    @staticmethod
    def _homophones(words: dict[str, str]) -> dict[str, str]:
        """Pinyin → domain word, for words of three or more characters (shorter ones collide)."""
        return {" ".join(lazy_pinyin(w)): w for w in words if len(w) >= 3 and _is_hanzi(w)}

    def _mend_slips(self, text: str) -> str:
        """Replaces a run of characters that sounds like a domain word but is spelled otherwise."""
        for size in (6, 5, 4, 3):
            sounds = [_sound(ch) for ch in text]
            for start in range(len(text) - size + 1):
                if None in sounds[start : start + size]:
                    continue
                word = self._by_sound.get(" ".join(sounds[start : start + size]))  # type: ignore[arg-type]
                if word and word != text[start : start + size]:
                    text = text[:start] + word + text[start + size :]
        return text


_HAN = "[\u4e00-\u9fff]"  # one Chinese character, in a regular expression
# A size after the units were rewritten (kb → k, 兆 → m): 230k, 1.5m.
# Two digits at least, or a decimal: 2k and 4k are screens, not files. Not inside a longer
# token (v2k, 1.2.30k).
_SIZE = re.compile(r"(?<![a-z0-9.])(\d{2,}(?:\.\d+)?|\d\.\d+)\s*(k|m)(?![a-z])")


@cache
def _sound(char: str) -> str | None:
    """A Chinese character's toneless pinyin (None for anything else)."""
    return lazy_pinyin(char)[0] if _is_hanzi(char) else None


def _is_hanzi(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)
