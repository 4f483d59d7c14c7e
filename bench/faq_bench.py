"""FAQ matching: accuracy, declines and latency on the labelled evaluation set, side by side with
a plain BM25 baseline (same library, no domain dictionary, synonyms or confidence rule).

    python -m bench.faq_bench

The evaluation set (tests/eval/questions.yaml) was written without seeing faq/'s phrasings. Its
even-numbered questions (the "dev" half) were used to tune the FAQ data and thresholds; the odd
half ("held out") was not looked at while tuning, so its figures are the honest ones.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
import jieba
import numpy as np
import yaml

from bot.content.faq import FaqEntry, faq_entries
from bot.matching import Ranking, matcher

EVAL = Path(__file__).resolve().parents[1] / "tests" / "eval" / "questions.yaml"


@dataclass(frozen=True)
class Question:
    text: str
    expect: str | None
    half: str  # "dev" or "held out"


@dataclass(frozen=True)
class Outcome:
    top: str | None  # the best-ranked entry
    answered: str | None  # the entry the bot would answer with, None when it asks or declines
    seconds: float


class PlainBM25:
    """The baseline: jieba's own dictionary, no normalisation, answer whatever ranks first."""

    def __init__(self, entries: tuple[FaqEntry, ...]) -> None:
        self.entries = entries
        self.tokenizer = jieba.Tokenizer()
        docs = [
            "\n".join(
                (
                    e.title,
                    *e.phrasings,
                    *e.keywords,
                    e.answer or "",
                    *(a.answer for a in e.by_province.values()),
                )
            )
            for e in entries
        ]
        self.index = bm25s.BM25()
        self.index.index([self.tokens(d) for d in docs], show_progress=False)

    def tokens(self, text: str) -> list[str]:
        return [w for w in self.tokenizer.cut(text) if w.strip()]

    def rank(self, question: str) -> tuple[str | None, bool]:
        scores = np.asarray(self.index.get_scores(self.tokens(question)))
        best = int(np.argmax(scores))
        hit = scores[best] > 0
        return (self.entries[best].id if hit else None), hit


def questions() -> list[Question]:
    raw = yaml.safe_load(EVAL.read_text(encoding="utf-8"))["questions"]
    return [
        Question(q["q"], q["expect"], "dev" if i % 2 == 0 else "held out")
        for i, q in enumerate(raw)
    ]


def run_ours(qs: list[Question]) -> list[Outcome]:
    m = matcher()
    out = []
    for q in qs:
        start = time.perf_counter()
        ranking: Ranking = m.rank(q.text)
        elapsed = time.perf_counter() - start
        top = ranking.best.entry.id if ranking.best else None
        out.append(Outcome(top, top if ranking.confident else None, elapsed))
    return out


def run_baseline(qs: list[Question], baseline: PlainBM25) -> list[Outcome]:
    out = []
    for q in qs:
        start = time.perf_counter()
        top, hit = baseline.rank(q.text)
        out.append(Outcome(top, top if hit else None, time.perf_counter() - start))
    return out


def summarize(qs: list[Question], outcomes: list[Outcome], half: str | None) -> dict[str, float]:
    pairs = [(q, o) for q, o in zip(qs, outcomes, strict=True) if half in (None, q.half)]
    scope = [(q, o) for q, o in pairs if q.expect]
    outside = [(q, o) for q, o in pairs if not q.expect]
    return {
        "in scope": len(scope),
        "out of scope": len(outside),
        "top-1": sum(o.top == q.expect for q, o in scope) / len(scope),
        "answered right": sum(o.answered == q.expect for q, o in scope) / len(scope),
        "answered wrong": sum(o.answered not in (None, q.expect) for q, o in scope) / len(scope),
        "declined (oos)": sum(o.answered is None for _, o in outside) / len(outside),
    }


def latency(outcomes: list[Outcome]) -> tuple[float, float]:
    ms = sorted(o.seconds * 1000 for o in outcomes)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def main() -> None:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    qs = questions()
    baseline = PlainBM25(faq_entries())
    matcher()  # build before timing
    ours, plain = run_ours(qs), run_baseline(qs, baseline)
    print(f"{len(qs)} questions ({sum(1 for q in qs if not q.expect)} out of scope)\n")
    for half in (None, "dev", "held out"):
        print(f"== {half or 'all'} ==")
        a, b = summarize(qs, ours, half), summarize(qs, plain, half)
        for key in a:
            fmt = "{:>10.0f}" if key in ("in scope", "out of scope") else "{:>10.1%}"
            print(f"  {key:<16}" + fmt.format(a[key]) + fmt.format(b[key]) + "   (ours, plain)")
    for name, outcomes in (("ours", ours), ("plain", plain)):
        p50, p99 = latency(outcomes)
        print(f"latency per match, {name:<5}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
