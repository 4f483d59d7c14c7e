"""The materials checklist through the webhook: every province × path of the notices, by hand."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import create_app
from bot.services import Services
from bot.settings import Settings
from tests.conftest import sim_for
from tests.wechat_sim import SimUser, WeChatSim

EXPECTATIONS = Path(__file__).with_name("checklist_expectations.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))["cases"]
ASKS_A_CHOICE = "（回复数字或文字"
ASKS_A_DATE = "请回复日期"

# Which answer a question's wording asks for (the expectations name answers by topic).
TOPICS = {  # first match wins: the date question also mentions 执业助理医师资格
    "首次执业注册": "registered_on",
    "中专学历用哪种": "secondary_proof",
    "学历": "education",
    "乡村全科": "rural",
    "执业助理医师资格": "holds_assistant",
    "哪一种情况": "graduate_stage",
    "院校在本省": "in_province_school",
    "机构属于": "institution",
    "专升本": "upgraded",
    "国外": "foreign_degree",
    "短线医学加试": "short_course",
    "现役军人": "military",
}


def answer_for(question: str, answers: dict[str, str]) -> str:
    """Picks the option (by number) whose label holds the case's answer for this topic."""
    topic = next((t for w, t in TOPICS.items() if w in question.splitlines()[0]), None)
    assert topic in answers, f"the bot asked something the case does not answer:\n{question}"
    wanted = str(answers[topic])
    if ASKS_A_DATE in question:
        return wanted
    for line in question.splitlines()[1:]:
        number, _, label = line.partition(". ")
        if number.isdigit() and wanted in label:
            return number
    raise AssertionError(f"no option holds {wanted!r}:\n{question}")


def walk(user: SimUser, case: dict[str, Any]) -> str:
    """Tells the bot the case's story and answers its questions; returns the last reply."""
    user.says(case["province"])
    reply = user.says(f"材料清单 {case['says']}")
    for _ in range(12):
        if ASKS_A_CHOICE not in reply and ASKS_A_DATE not in reply:
            return reply
        reply = user.says(answer_for(reply, case.get("answers") or {}))
    raise AssertionError("the walk-through did not end")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['province']}-{c['path']}-{c['says']}")
def test_each_path_gets_the_notices_list(wechat: WeChatSim, case: dict[str, Any]):
    reply = walk(wechat.user("o_walk"), case)
    if not case.get("eligible", True):
        assert "不符合" in reply and "依据：" in reply
        return
    assert "需上传的材料" in reply, reply
    full = reply
    while "回复「更多」" in full.splitlines()[-1]:
        full += "\n" + wechat.user("o_walk").says("更多")
    for thing in case["must"]:
        assert thing in full, f"missing {thing!r}"
    for thing in case.get("must_not") or []:
        assert thing not in full, f"should not list {thing!r}"


def first_question(user: SimUser) -> str:
    user.says("河北")
    return user.says("材料清单")


def test_a_description_skips_what_it_already_says(wechat: WeChatSim):
    user = wechat.user("o_desc")
    user.says("河北")
    reply = user.says("我是大专毕业已经拿到助理证，想考执医")
    assert "学历" not in reply.splitlines()[0]  # education and the licence were in the sentence
    assert ASKS_A_CHOICE in reply or ASKS_A_DATE in reply


def test_back_restart_and_cancel(wechat: WeChatSim):
    user = wechat.user("o_nav")
    asked = first_question(user)
    second = user.says("1")
    assert second != asked
    assert user.says("返回") == asked
    user.says("1")
    assert user.says("重新开始") == asked
    assert "已取消" in user.says("取消")
    assert "当前没有进行中的操作" in user.says("取消")


def test_bad_answers_get_the_question_again_with_a_hint(wechat: WeChatSim):
    user = wechat.user("o_bad")
    asked = first_question(user)
    for nonsense in ("99", "今天天气不错"):
        reply = user.says(nonsense)
        assert "没有看懂" in reply
        assert asked.splitlines()[0] in reply


def test_a_question_mid_flow_is_answered_and_the_flow_resumes(wechat: WeChatSim):
    user = wechat.user("o_mid")
    asked = first_question(user)
    reply = user.says("上传的材料图片有什么要求？")
    assert "200k" in reply
    assert asked.splitlines()[0] in reply
    assert user.says("返回") == asked  # still in the flow


def test_progress_survives_a_server_restart(settings: Settings, redis_client):
    first = create_app(settings, Services(settings, client=redis_client))
    user = sim_for(first.test_client(), settings).user("o_restart")
    asked = first_question(user)
    user.says("1")
    again = create_app(settings, Services(settings, client=redis_client))  # a new process
    resumed = sim_for(again.test_client(), settings).user("o_restart")
    assert resumed.says("返回") == asked


def finished_list(user: SimUser) -> str:
    user.says("河北")
    reply = user.says("材料清单 我是本科毕业的 在三级甲等医院试用 统招本科 不参加加试")
    for _ in range(6):
        if "需上传的材料" in reply:
            return reply
        reply = user.says("1")
    raise AssertionError(reply)


def test_ticking_off_and_what_is_left(wechat: WeChatSim):
    user = wechat.user("o_tick")
    listed = finished_list(user)
    total = listed.split("已备好 0/")[1].split("）")[0]
    reply = user.says("1 3 已备好")
    assert f"进度 2/{total}" in reply
    assert "1. " not in reply.split("还差：")[1]
    assert f"进度 3/{total}" in user.says("完成 2")
    assert f"进度 3/{total}" in user.says("还差什么")
    assert f"已备好 3/{total}" in user.says("材料清单")
    assert "没有第 99 项" in user.says("99 已备好")


def test_two_ticks_at_the_same_moment_are_both_counted(wechat: WeChatSim):
    user = wechat.user("o_race")
    listed = finished_list(user)
    total = listed.split("已备好 0/")[1].split("）")[0]
    threads = [threading.Thread(target=user.says, args=(f"{n} 已备好",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert f"进度 2/{total}" in user.says("还差什么")


def test_a_photo_mid_flow_is_checked_and_the_flow_waits(wechat: WeChatSim):
    user = wechat.user("o_photo_mid")
    asked = first_question(user)
    photo = user.send(MsgType="image", MediaId="m-1", MsgId="880001", PicUrl="http://x.invalid/p")
    assert photo.body == b"success"  # handed to the photo check, not taken as an answer
    assert user.says("返回") == asked


def test_a_new_province_means_its_own_questions_not_the_old_path(wechat: WeChatSim):
    user = wechat.user("o_moved")
    finished_list(user)  # Hebei
    user.says("江西")
    reply = user.says("材料清单")
    assert "需上传的材料" not in reply  # Jiangxi's questions are asked afresh
    assert ASKS_A_CHOICE in reply


def test_without_a_province_the_checklist_asks_for_it_and_traps_nobody(wechat: WeChatSim):
    user = wechat.user("o_noprov")
    assert "请先告诉我您的考区" in user.says("材料清单")
    assert "200k" in user.says("上传的材料图片有什么要求？")


def test_a_province_and_a_path_in_one_sentence(wechat: WeChatSim):
    reply = wechat.user("o_both").says("我是河北考生，大专毕业已经拿到助理证")
    assert "考区设为「河北」" in reply
    assert ASKS_A_CHOICE in reply or ASKS_A_DATE in reply


def test_a_tick_batch_with_a_wrong_number_ticks_nothing(wechat: WeChatSim):
    user = wechat.user("o_badbatch")
    listed = finished_list(user)
    total = listed.split("已备好 0/")[1].split("）")[0]
    assert "没有第 99 项" in user.says("1 2 99 已备好")
    assert f"进度 0/{total}" in user.says("还差什么")


def test_a_date_on_a_limit_the_notice_leaves_open_is_referred_to_the_office(
    wechat: WeChatSim,
):
    # 辽宁: "须于2023年8月22日前注册" — the notice does not say whether the day itself counts.
    on_the_day = {
        "province": "辽宁",
        "says": "大专毕业 有执业助理医师证 想考执业医师",
        "answers": {
            "education": "大专",
            "holds_assistant": "是，已取得",
            "rural": "不是",
            "institution": "一般医疗机构",
            "registered_on": "2023-08-22",
            "short_course": "不参加",
            "military": "不是",
            "foreign_degree": "不是",
        },
    }
    reply = walk(wechat.user("o_edge"), on_the_day)
    assert "不符合" not in reply
    assert "没有写明是否含当日" in reply and "2023年8月22日前注册" in reply
    assert "依据：《" in reply and "需上传的材料" in reply
    # 河北 says （含）: its day is simply fine, with no note.
    hebei = {**on_the_day, "province": "河北"}
    hebei["answers"] = {**on_the_day["answers"], "registered_on": "2020-08-18"}
    fine = walk(wechat.user("o_edge_hebei"), hebei)
    assert "需上传的材料" in fine and "没有写明" not in fine
