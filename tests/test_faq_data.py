"""The FAQ data: every file loads, ids and provinces are sound, answers say what notices say."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content.faq import CitedAnswer, FaqEntry, faq_entries, load_faq
from bot.content.loader import ROOT, ContentError
from bot.content.provinces import provinces

# The 考生服务系统操作指南 and 考生有关问题答疑: the one notice a shared answer may cite,
# because every province's own guide repeats it. A fact only one province's notice states is
# per-province.
SHARED_NOTICE = "upload-guide"

# The notices' plain text, to check answers against; they live outside the repository.
# CI clones the repository with shared/ beside it, as on a developer machine.
SEEDS = Path(
    os.environ.get("YIKAO_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)
SEED_PREFIXES = {
    "jiangxi-2022": ("000",),
    "liaoning-2025": ("001",),
    "hebei-shijiazhuang-2022": ("002",),
    "upload-guide": ("003", "000"),  # 000 carries the same guide and 答疑 as its attachments
    "sichuan-2024": ("004",),
}


def entry(entry_id: str) -> FaqEntry:
    return next(e for e in faq_entries() if e.id == entry_id)


def answer(entry_id: str, province: str | None = None) -> str:
    cited = entry(entry_id).answer_for(province)
    assert cited is not None, f"{entry_id} has no answer for {province}"
    return cited.answer


def all_answers() -> Iterator[tuple[FaqEntry, str | None, CitedAnswer]]:
    for e in faq_entries():
        if e.varies_by_province:
            for province, cited in e.by_province.items():
                yield e, province, cited
        else:
            shared = e.answer_for(None)
            assert shared is not None
            yield e, None, shared


# --- the files load, and hang together ---------------------------------------------------------


def test_every_file_loads_into_entries() -> None:
    files = sorted((ROOT / "faq").glob("*.yaml"))
    assert files
    entries = faq_entries()
    assert len({e.topic for e in entries}) == len(files), "each file is one topic"
    assert 50 <= len(entries) <= 80


def test_ids_are_unique() -> None:
    ids = Counter(e.id for e in faq_entries())
    assert [i for i, n in ids.items() if n > 1] == []


def test_phrasings_and_titles_belong_to_one_entry() -> None:
    said = Counter(p for e in faq_entries() for p in {e.title, *e.phrasings})
    assert [p for p, n in said.items() if n > 1] == []


def test_per_province_entries_account_for_every_real_province() -> None:
    ours = {p.id for p in provinces().provinces}
    for e in faq_entries():
        if e.varies_by_province:
            named = set(e.by_province) | set(e.silent)
            assert named == ours, f"{e.id}: answered or silent must be exactly {sorted(ours)}"


def test_answers_cite_their_own_provinces_notice() -> None:
    for e, province, cited in all_answers():
        if province is None:
            assert cited.source.notice == SHARED_NOTICE, e.id
        else:
            own = provinces().get(province)
            assert own is not None and cited.source.notice == own.notice, f"{e.id}/{province}"


def test_answers_are_short_and_leave_the_citation_to_the_bot() -> None:
    for e, province, cited in all_answers():
        lines = cited.answer.splitlines()
        assert 1 <= len(lines) <= 6, f"{e.id}/{province}"
        assert "依据" not in cited.answer, f"{e.id}/{province}"


def test_a_silent_province_gets_no_borrowed_answer() -> None:
    fee = entry("fee-amount")
    assert fee.varies_by_province
    assert fee.answer_for("jiangxi") is None
    assert fee.answer_for(None) is None
    assert entry("photo-size-format").answer_for("sichuan") is not None


# --- a broken file names the file, the entry and the field ---------------------------------------


def good_entry(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "sample-entry",
        "title": "示例问题？",
        "phrasings": ["问法一", "问法二", "问法三"],
        "keywords": ["示例"],
        "answer": "示例回答。",
        "source": {"notice": SHARED_NOTICE, "section": "附件3 问题3"},
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


def write(directory: Path, name: str, *entries: dict[str, Any]) -> Path:
    path = directory / name
    data = {"topic": "示例", "entries": list(entries)}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", good_entry())
    (loaded,) = load_faq(tmp_path)
    assert loaded.topic == "示例" and loaded.answer == "示例回答。"


def test_too_few_phrasings_names_file_entry_and_field(tmp_path: Path) -> None:
    write(
        tmp_path, "bad.yaml", good_entry(), good_entry(id="broken-entry", phrasings=["只有一种"])
    )
    with pytest.raises(ContentError) as err:
        load_faq(tmp_path)
    assert "bad.yaml" in str(err.value)
    assert "entry 'broken-entry'" in str(err.value)
    assert "phrasings" in str(err.value)


def test_unparsable_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("topic: [未闭合\nentries:\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"broken\.yaml"):
        load_faq(tmp_path)


def test_an_id_used_in_two_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", good_entry(id="twice"))
    write(tmp_path, "b.yaml", good_entry(id="twice"))
    with pytest.raises(ContentError) as err:
        load_faq(tmp_path)
    assert (
        "b.yaml" in str(err.value) and "a.yaml" in str(err.value) and "'twice'" in str(err.value)
    )


def test_an_answer_too_long_for_one_reply_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "long.yaml", good_entry(id="too-long", answer="长" * 700))  # 2100 bytes
    with pytest.raises(ContentError) as err:
        load_faq(tmp_path)
    assert "entry 'too-long'" in str(err.value) and "answer" in str(err.value)


per_province = {"hebei": {"answer": "河北的回答。", "source": {"notice": "x", "section": "一"}}}


@pytest.mark.parametrize(
    "changes",
    [
        {"by_province": per_province},  # both forms at once
        {"answer": None, "source": None},  # neither form
        {"source": None},  # a shared answer with no citation
        {"answer": None, "source": None, "by_province": per_province, "silent": ["hebei"]},
        {"silent": ["hebei"]},  # silence beside a shared answer
        {"answer": "   "},
        {"keywords": []},
    ],
)
def test_malformed_entries_are_refused_by_id(tmp_path: Path, changes: dict[str, Any]) -> None:
    write(tmp_path, "bad.yaml", good_entry(**{"id": "bad-one", **changes}))
    with pytest.raises(ContentError, match=r"bad\.yaml(.|\n)*entry 'bad-one'"):
        load_faq(tmp_path)


def test_a_section_cited_in_another_style_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", good_entry(source={"notice": "x", "section": "二、（七）"}))
    with pytest.raises(ContentError, match=r"source\.section(.|\n)*二\(七\)"):
        load_faq(tmp_path)


def test_an_id_that_is_not_kebab_case_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", good_entry(id="Not_Kebab"))
    with pytest.raises(ContentError, match=r"entry 'Not_Kebab' entries\.0\.id"):
        load_faq(tmp_path)


# --- spot checks, read by hand against the notices -----------------------------------------------


def test_upload_size_and_formats() -> None:
    text = answer("photo-size-format")
    assert "200k" in text and "jpg/jpeg/png" in text and "正向" in text
    assert "1500kb" in answer("phone-upload")
    assert "30K" in answer("registration-photo-30k") and "画图" in answer("registration-photo-30k")


def test_submit_step_differs_between_jiangxi_and_liaoning() -> None:
    jiangxi, liaoning = answer("submit-step", "jiangxi"), answer("submit-step", "liaoning")
    assert "没有提交按钮" in jiangxi and "自动保存" in jiangxi and "提交审核" not in jiangxi
    assert "提交审核" in liaoning and "上报完成，内容已锁定" in liaoning
    assert "水印" in answer("upload-success-check", "jiangxi")


def test_hebei_fee_and_payment() -> None:
    assert "289元" in answer("fee-amount", "hebei")
    assert "一律不予退费" in answer("fee-refund", "hebei")
    assert "95070" in answer("fee-problem", "hebei")
    assert entry("fee-refund").silent == ("jiangxi", "liaoning", "sichuan")


def test_registration_date_limits_per_notice() -> None:
    assert "2023年8月22日" in answer("registration-date-limit", "liaoning")
    assert "2020年8月18日（含）" in answer("registration-date-limit", "hebei")
    assert "2022年8月31日" in answer("registration-date-limit", "sichuan")
    assert "jiangxi" in entry("registration-date-limit").silent


def test_license_and_its_exemptions() -> None:
    assert "正本无效" in answer("license-copy", "liaoning")
    assert "诊疗科目页" in answer("license-copy", "sichuan")
    assert "军队医疗机构" in answer("license-exempt", "hebei")
    assert "军队" not in answer("license-exempt", "sichuan")
    assert "单位红头文件证明" in answer("license-alternatives", "hebei")


def test_rules_that_differ_in_detail() -> None:
    assert "学历证明书" in answer("lost-diploma", "hebei")
    assert "学历证明书" not in answer("lost-diploma", "liaoning")
    assert "2015年9月1日" in answer("upgrade-bachelor", "sichuan")
    assert "2015" not in answer("upgrade-bachelor", "jiangxi")
    assert "仅考试当年有效" in answer("probation-validity", "hebei")
    assert "sichuan" in entry("graduate-out-of-province").silent
    assert "24 小时" in answer("sms-notice", "sichuan")
    assert "逾期未上传材料的考生视为放弃报名" in answer("late-upload", "jiangxi")


# --- every quoted name and every number appears in the notice the answer cites -------------------


def notice_text(notice: str) -> str:
    texts = [
        p.read_text(encoding="utf-8")
        for pre in SEED_PREFIXES[notice]
        for p in SEEDS.glob(f"{pre}_*.txt")
    ]
    return re.sub(r"\s+", "", "".join(texts))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the notices' text is not on this machine")
def test_quoted_names_and_numbers_come_from_the_cited_notice() -> None:
    for e, province, cited in all_answers():
        source = notice_text(cited.source.notice)
        flat = re.sub(r"\s+", "", cited.answer)
        for quoted in re.findall(r"[《“]([^》”]+)[》”]", flat):
            assert quoted in source, (
                f"{e.id}/{province}: 《{quoted}》 is not in {cited.source.notice}"
            )
        for number in re.findall(r"\d{2,}", flat):
            assert number in source, f"{e.id}/{province}: {number} is not in {cited.source.notice}"
