"""Finds the FAQ entry a candidate's question asks for: read the words, tokenise, rank with BM25.

The question is first read as bot/wording.py describes (simplified characters, slips mended,
synonyms rewritten…). jieba, with the domain terms in its dictionary, cuts it into words (a
domain term stays one word; other long words also give their known sub-words).

Each entry is indexed by its questions (title, phrasings, keywords) and its answers, and its
questions once more as character pairs; it scores
`questions + ANSWER_WEIGHT × answers + BIGRAM_WEIGHT × question pairs`. The decision whether
to answer lies with the caller (`Ranking.confident`): the best score must clear a floor *and*
lead the runner-up by a margin (or lead every other entry by far), and the best entry must speak
of every out-of-scope topic the question names (faq/matching/out_of_scope.yaml: 成绩, 准考证…).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated

import bm25s
import jieba
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.content.faq import FaqEntry, faq_entries
from bot.content.loader import ROOT, load_model
from bot.content.provinces import provinces
from bot.wording import Dictionary, Normalizer

PHRASING_WEIGHT = 0.3
ANSWER_WEIGHT = 0.2  # answers share words with many questions; they only break ties
# Character pairs back the words up where jieba's cut differs; as a full partner they would
# reward questions that merely share common pairs (报名, 材料), so they count at a share.
BIGRAM_WEIGHT = 0.4
# An entry is worth offering in "您是不是想问" when it holds a fair share of what was asked
# and scores within reach of the best.
NEAR_COVERAGE = 0.3
NEAR_SHARE = 0.5
# BM25 scores grow with the question's length, so the answer/ask decision does not rest on them
# alone: the score is weighed by how much of what was asked the entry holds (the IDF-weighted
# coverage of the question's words by the entry's questions), and the best entry must lead the
# runner-up by a clear share. Chosen on tests/eval, tuned on each half and checked on the other
# (see bench/faq_bench.py); the stricter of the two, as a wrong answer costs more than a question.
CONFIDENT_STRENGTH = 4.25
CONFIDENT_MARGIN = 0.08
# Or a weaker match that leaves every other entry far behind: the question has words the FAQ
# does not know (chat filler, personal detail), but only one entry is about what it does know.
# Chosen on the first two development sets with no wrong answer on either, and checked on
# the next two (tests/eval/questions*.yaml): no wrong answer added there either.
CLEAR_LEAD_STRENGTH = 2.0
CLEAR_LEAD_MARGIN = 0.4


Marker = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2)]


class OutOfScope(BaseModel):
    """faq/matching/out_of_scope.yaml: topics the notices do not cover, and their markers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topics: dict[str, tuple[Marker, ...]] = Field(min_length=1)

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(m for markers in self.topics.values() for m in markers)


@dataclass(frozen=True)
class Scored:
    entry: FaqEntry
    score: float
    coverage: float  # the IDF-weighted share of the question's words found in the entry
    # Out-of-scope markers the question holds that the entry never mentions: a sign that the
    # question is about something else (成绩, 准考证…) and only shares the entry's other words.
    foreign: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranking:
    """The entries closest to a question, best first."""

    candidates: tuple[Scored, ...]

    @property
    def best(self) -> Scored | None:
        return self.candidates[0] if self.candidates else None

    @property
    def confident(self) -> bool:
        """The best entry covers the question, speaks of its topic and leads the runner-up."""
        if not self.candidates or self.candidates[0].foreign:
            return False
        best = self.candidates[0]
        strength = best.score * best.coverage
        second = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        lead = (best.score - second) / best.score
        return (strength >= CONFIDENT_STRENGTH and lead >= CONFIDENT_MARGIN) or (
            strength >= CLEAR_LEAD_STRENGTH and lead >= CLEAR_LEAD_MARGIN
        )

    def near(self, limit: int = 3) -> tuple[FaqEntry, ...]:
        """Up to `limit` entries close enough to offer as "您是不是想问"."""
        if not self.candidates:
            return ()
        floor = NEAR_SHARE * self.candidates[0].score
        return tuple(
            s.entry
            for s in self.candidates[:limit]
            if s.coverage >= NEAR_COVERAGE and s.score >= floor
        )


class FaqMatcher:
    """A BM25 index over the FAQ entries' questions and answers."""

    def __init__(
        self,
        entries: tuple[FaqEntry, ...],
        dictionary: Dictionary,
        place_names: tuple[str, ...],
        out_of_scope: tuple[str, ...] = (),
    ) -> None:
        self.entries = entries
        self.normalize = Normalizer(dictionary)
        # Markers and entries read as questions are, so 啥时候考试 meets 什么时候考试.
        self._markers = tuple(sorted({self.normalize(m) for m in out_of_scope}))
        self._entry_texts = [
            self.normalize(f"{_questions_of(e)}\n{_answers_of(e)}") for e in entries
        ]
        # A province or city named in a question says whose rule to quote, not which question:
        # left in, "石家庄" would pull every entry that happens to mention the city.
        self._places = re.compile(
            "|".join(map(re.escape, sorted(place_names, key=len, reverse=True)))
        )
        jieba.setLogLevel(logging.WARNING)
        # bm25s sets its own logger to DEBUG: every index built would print a line.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._domain_words = frozenset((*dictionary.synonyms, *dictionary.words))
        for word in self._domain_words:
            self._jieba.add_word(word, freq=2000)
        # One document per way of asking (title, each phrasing, the keywords): an entry scores as
        # its best-matching question, so entries with many phrasings are not favoured.
        owners, questions = [], []
        for i, entry in enumerate(entries):
            for text in (entry.title, *entry.phrasings, " ".join(entry.keywords)):
                owners.append(i)
                questions.append(text)
        self._owners = np.asarray(owners)
        self._phrasings = self._index(questions)
        self._questions = self._index([_questions_of(e) for e in entries])
        self._answers = self._index([_answers_of(e) for e in entries])
        # The same questions again as character pairs: a word jieba cuts differently in the
        # question than in the phrasing (传成功 / 上传成功) still shares its pairs.
        self._bigram_phrasings = self._bigram_index(questions)
        self._bigram_questions = self._bigram_index([_questions_of(e) for e in entries])
        self._entry_words = [set(self.tokens(_questions_of(e))) for e in entries]
        document_frequency = Counter(w for words in self._entry_words for w in words)
        n = len(entries)
        self._idf = {
            w: math.log(1 + (n - df + 0.5) / (df + 0.5)) for w, df in document_frequency.items()
        }

    def tokens(self, text: str) -> list[str]:
        text = self._places.sub(" ", self.normalize(text))
        words = [
            w
            for w in self._cut(text)
            if w.strip() and w not in self.normalize.stopwords and not _is_punctuation(w)
        ]
        return words

    def _cut(self, text: str) -> Iterator[str]:
        """jieba's search mode, except that a domain word stays one word."""
        # Search mode also emits every known sub-word of a long word (毕业证书 → 毕业, 证书,
        # 毕业证, 毕业证书): one concept counted four times drowns the rest of the question.
        for word in self._jieba.cut(text):
            if word not in self._domain_words:
                yield from _sub_words(word, self._jieba.FREQ)
            yield word

    def rank(self, question: str, limit: int = 5) -> Ranking:
        tokens = self.tokens(question)
        if not tokens:
            return Ranking(())
        scores = self._questions_score(
            self._questions, self._phrasings, tokens
        ) + ANSWER_WEIGHT * self._scores(self._answers, tokens)
        if grams := self.bigrams(question):
            scores += BIGRAM_WEIGHT * self._questions_score(
                self._bigram_questions, self._bigram_phrasings, grams
            )
        order = np.argsort(-scores)[:limit]
        weights = {t: self._idf.get(t, max(self._idf.values())) for t in set(tokens)}
        total = sum(weights.values())

        def coverage(i: int) -> float:
            return sum(w for t, w in weights.items() if t in self._entry_words[i]) / total

        markers = self.markers_in(question)

        def foreign(i: int) -> tuple[str, ...]:
            return tuple(m for m in markers if m not in self._entry_texts[i])

        return Ranking(
            tuple(
                Scored(self.entries[i], float(scores[i]), coverage(i), foreign(i))
                for i in order
                if scores[i] > 0
            )
        )

    def markers_in(self, question: str) -> tuple[str, ...]:
        """The out-of-scope markers (成绩, 准考证…) the question holds."""
        asked = self.normalize(question)
        return tuple(m for m in self._markers if m in asked)

    def _questions_score(
        self, questions: bm25s.BM25, phrasings: bm25s.BM25, terms: list[str]
    ) -> np.ndarray:
        """Per entry: its questions as one text, plus a share of its best single phrasing."""
        best_phrasing = np.zeros(len(self.entries))
        np.maximum.at(best_phrasing, self._owners, self._scores(phrasings, terms))
        return self._scores(questions, terms) + PHRASING_WEIGHT * best_phrasing

    def bigrams(self, text: str) -> list[str]:
        """Overlapping character pairs within each run of words, stopwords and places left out."""
        text = self._places.sub(" ", self.normalize(text))
        kept = [
            w if w not in self.normalize.stopwords and not _is_punctuation(w) else " "
            for w in self._jieba.cut(text)
        ]
        return [run[i : i + 2] for run in "".join(kept).split() for i in range(len(run) - 1)]

    def _bigram_index(self, texts: list[str]) -> bm25s.BM25:
        retriever = bm25s.BM25()
        # A keyword list of single characters has no pairs; a placeholder keeps documents aligned.
        retriever.index([self.bigrams(t) or ["∅"] for t in texts], show_progress=False)
        return retriever

    def _index(self, texts: list[str]) -> bm25s.BM25:
        retriever = bm25s.BM25()
        retriever.index([self.tokens(t) for t in texts], show_progress=False)
        return retriever

    @staticmethod
    def _scores(index: bm25s.BM25, tokens: list[str]) -> np.ndarray:
        return np.asarray(index.get_scores(tokens), dtype=np.float64)


def _sub_words(word: str, known: dict[str, int]) -> Iterator[str]:
    """The known two- and three-character words inside a longer word, as jieba's search mode."""
    for size in (2, 3):
        if len(word) > size:
            for start in range(len(word) - size + 1):
                if known.get(word[start : start + size]):
                    yield word[start : start + size]


def _questions_of(entry: FaqEntry) -> str:
    return "\n".join((entry.title, *entry.phrasings, *entry.keywords))


def _answers_of(entry: FaqEntry) -> str:
    answers = [entry.answer] if entry.answer else [a.answer for a in entry.by_province.values()]
    return "\n".join(answers)


def _is_punctuation(token: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZS" for ch in token)


@cache
def matcher() -> FaqMatcher:
    """The process's matcher, built once (jieba's dictionary load takes about a second)."""
    table = provinces()
    places = tuple(n for p in table.provinces for n in p.names if len(n) > 1) + table.other_regions
    dictionary = load_model(ROOT / "faq" / "matching" / "dictionary.yaml", Dictionary)
    out_of_scope = load_model(ROOT / "faq" / "matching" / "out_of_scope.yaml", OutOfScope)
    return FaqMatcher(faq_entries(), dictionary, places, out_of_scope.markers)
