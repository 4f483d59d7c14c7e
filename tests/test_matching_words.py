"""How the matcher reads candidates' words: rewrites that help must not change a meaning.

Each case here was a wrong reading once (found in review): a variant matching inside an
unrelated word, a size that is not a file, a phrase that says something else in context.
"""

from __future__ import annotations

import pytest

from bot.matching import matcher


@pytest.mark.parametrize(
    "typed, read",
    [
        ("反正明天再传", "反正明天再传"),  # 正明 is not a slip of 证明 here
        ("报考合肥的考点", "报考合肥考点"),  # nor 考合 of 考核
        ("报考承诺书要签吗", "承诺书要签吗"),  # not 承诺书书
        ("复审人员是谁", "复审人员是谁"),  # 审的人 minus its filler is not a word
        ("2k分辨率的照片", "2k分辨率照片"),  # a screen, not a file size
        ("照片29k", "照片30k"),  # the registration photo's limit
        ("材料照片100kb", "材料照片200k"),  # nearer the materials' 200k than the photo's 30K
        ("照片1.5m", "照片1.5m"),  # a phone photo keeps its own size
        ("试用期的那个考核证明", "试用期证明"),  # fillers inside a term
    ],
)
def test_what_the_matcher_reads(typed: str, read: str):
    assert matcher().normalize(typed) == read


@pytest.mark.parametrize(
    "question, not_this",
    [
        ("快毕业了要传什么材料", "materials-graduated-postgrad"),  # 毕业了 is not 已毕业
        ("国家医考什么时候报名", "nmec-wechat-binding"),  # the exam, not its WeChat account
        ("银行卡在哪交钱", "review-status"),  # 卡在哪 is not 审核卡在哪
        ("报名时间超了怎么办", "photo-size-format"),  # 超了 is not a file too large
    ],
)
def test_a_phrase_read_out_of_context_does_not_win(question: str, not_this: str):
    ranking = matcher().rank(question)
    assert ranking.best is not None and ranking.best.entry.id != not_this
