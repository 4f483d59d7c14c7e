"""FAQ matching: accuracy, declines and latency on the labelled evaluation set, side by side with
a plain BM25 baseline (same library, no domain dictionary, synonyms or confidence rule).

    python -m bench.faq_bench [--eval PATH] [--misses]

The default set (tests/eval/questions.yaml) was written without seeing faq/'s phrasings. Its
even-numbered questions were tuned on first and the odd half held out; since then both halves
have been looked at while tuning, so they are all dev questions. Its figures are reported for
all and, as a check against overfitting (tune on one half, look at the other), per half. The
honest figures come from a set the tuning never saw: pass it with --eval (same format: a
`questions` list of `q` and `expect`, null when out of scope); it is reported as one whole.
`--misses` lists the questions ranked wrong, declined or answered wrongly, to read, not to copy.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import jieba
import numpy as np
import yaml

from bot.content.faq import FaqEntry, faq_entries
from bot.matching import Ranking, matcher

EVAL = Path(__file__).resolve().parents[1] / "tests" / "eval" / "questions.yaml"
HALVES = ("even", "odd")


@dataclass(frozen=True)
class Question:
    text: str
    expect: str | None
    half: str  # "even" or "odd": its position in the file


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


def questions(path: Path) -> list[Question]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    listed = raw["questions"] if isinstance(raw, dict) else raw
    return [Question(q["q"], q["expect"], HALVES[i % 2]) for i, q in enumerate(listed)]


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
        "top-1": _share(o.top == q.expect for q, o in scope),
        "answered right": _share(o.answered == q.expect for q, o in scope),
        "answered wrong": _share(o.answered not in (None, q.expect) for q, o in scope),
        "declined (oos)": _share(o.answered is None for _, o in outside),
    }


def _share(hits: Iterable[bool]) -> float:
    """The share of true values; NaN for none (a set may hold no out-of-scope questions)."""
    flags = list(hits)
    return sum(flags) / len(flags) if flags else math.nan


def latency(outcomes: list[Outcome]) -> tuple[float, float]:
    ms = sorted(o.seconds * 1000 for o in outcomes)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def print_misses(qs: list[Question], outcomes: list[Outcome]) -> None:
    """Lists what went wrong: ranked wrong (top), not answered directly (ask), answered wrong."""
    for i, (q, o) in enumerate(zip(qs, outcomes, strict=True)):
        if q.expect and o.answered not in (None, q.expect):
            kind = "WRONG"
        elif q.expect and o.top != q.expect:
            kind = "top"
        elif q.expect and o.answered is None:
            kind = "ask"
        elif not q.expect and o.answered is not None:
            kind = "OOS"
        else:
            continue
        print(f"  {kind:<5} #{i:<4} {q.text}  → {o.top} (expected {q.expect})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=EVAL, help="a labelled questions file")
    parser.add_argument("--misses", action="store_true", help="list the questions gone wrong")
    args = parser.parse_args()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    qs = questions(args.eval)
    baseline = PlainBM25(faq_entries())
    matcher()  # build before timing
    ours, plain = run_ours(qs), run_baseline(qs, baseline)
    outside = sum(1 for q in qs if not q.expect)
    print(f"{args.eval}: {len(qs)} questions ({outside} out of scope)\n")
    # Only the default set's even/odd positions mean anything (see the docstring).
    halves = HALVES if args.eval.resolve() == EVAL else ()
    for half in (None, *halves):
        print(f"== {half or 'all'} ==")
        a, b = summarize(qs, ours, half), summarize(qs, plain, half)
        for key in a:
            fmt = "{:>10.0f}" if key in ("in scope", "out of scope") else "{:>10.1%}"
            print(f"  {key:<16}" + fmt.format(a[key]) + fmt.format(b[key]) + "   (ours, plain)")
    for name, outcomes in (("ours", ours), ("plain", plain)):
        p50, p99 = latency(outcomes)
        print(f"latency per match, {name:<5}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    if args.misses:
        print("\nmisses (ours):")
        print_misses(qs, ours)


if __name__ == "__main__":
    main()
