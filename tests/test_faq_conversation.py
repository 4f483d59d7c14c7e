"""Questions through the webhook: answers hold the notices' facts and cite them, per province."""

from __future__ import annotations

import pytest

from tests.wechat_sim import WeChatSim

HEBEI_NOTICE = "《关于开展2022年医师资格考试网上报名及资格审核工作的通知》"
GUIDE = "《考生服务系统操作指南》"


def test_a_shared_answer_is_given_at_once_with_its_source(wechat: WeChatSim):
    reply = wechat.user("o_q1").says("上传的材料图片有什么要求？")
    assert "200k" in reply and "jpg/jpeg/png" in reply
    assert f"依据：{GUIDE}" in reply
    assert "哪个考区" not in reply  # the same everywhere: no need to ask


def test_the_province_is_asked_once_then_remembered(wechat: WeChatSim):
    user = wechat.user("o_q2")
    asked = user.says("考试费要交多少钱")
    assert "请问您是哪个考区的考生" in asked
    assert "3. 河北" in asked
    answered = user.says("3")
    assert "【河北】" in answered and "289元" in answered
    assert f"依据：{HEBEI_NOTICE}" in answered
    assert "您当前的考区：河北" in user.says("帮助")
    assert "289元" in user.says("考试费要交多少钱")  # not asked again


def test_a_province_name_answers_the_waiting_question(wechat: WeChatSim):
    user = wechat.user("o_q3")
    user.says("考试费要交多少钱")
    assert "289元" in user.says("河北")


def test_a_question_naming_another_province_is_answered_for_it(wechat: WeChatSim):
    user = wechat.user("o_q4")
    user.says("江西")
    reply = user.says("石家庄考点的考试费多少钱")
    assert "【河北】" in reply and "289元" in reply
    assert "您当前的考区：江西" in user.says("帮助")  # asking about Hebei did not move the user


def test_provinces_get_their_own_rule_for_the_submit_step(wechat: WeChatSim):
    jiangxi, liaoning = wechat.user("o_jx"), wechat.user("o_ln")
    jiangxi.says("江西")
    liaoning.says("辽宁")
    question = "材料传完后还要点提交吗"
    jx, ln = jiangxi.says(question), liaoning.says(question)
    assert "【江西】" in jx and "自动保存" in jx
    assert "【辽宁】" in ln and "提交审核" in ln
    assert "自动保存" not in ln


def test_a_silent_notice_is_said_plainly_not_borrowed(wechat: WeChatSim):
    user = wechat.user("o_q5")
    user.says("辽宁")
    reply = user.says("考试费要交多少钱")
    assert "没有关于" in reply and "辽宁" in reply
    assert "289" not in reply
    assert "人工" in reply


def test_out_of_scope_is_declined_with_a_person_and_the_office_phone(wechat: WeChatSim):
    user = wechat.user("o_q6")
    user.says("河北")
    reply = user.says("我的考试成绩什么时候出来")
    assert "没有找到答案" in reply
    assert "人工" in reply
    assert "0311-67502380" in reply


# Other exams and what comes after the exam share words with entries (考试费, 试用期证明, 学历认证,
# 注册) but are not in the notices: the entry is not given as their answer.
OUT_OF_SCOPE = [
    "执业药师考试费多少钱",
    "主治医师的考试费多少钱",
    "规培的试用期证明怎么开",
    "考研的学历认证怎么弄",
    "考过以后去哪注册执业",
]


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_a_topic_outside_the_notices_is_not_answered_with_an_entry(
    wechat: WeChatSim, question: str
):
    user = wechat.user("o_oos")
    user.says("河北")
    reply = user.says(question)
    assert "依据" not in reply
    assert "人工" in reply


def test_a_question_sharing_their_words_is_still_answered(wechat: WeChatSim):
    user = wechat.user("o_oos_in")
    user.says("河北")
    reply = user.says("考试费多少钱")
    assert "289元" in reply and f"依据：{HEBEI_NOTICE}" in reply


def test_a_filler_between_the_words_of_a_term_does_not_hide_it(wechat: WeChatSim):
    user = wechat.user("o_filler")
    user.says("辽宁")
    reply = user.says("我在诊所试用的 试用期那个考核证明谁给开")
    assert "《试用期考核合格证明》" in reply and "每个单位一份" in reply
    assert "执业期考核证明" not in reply  # the 执助 → 执医 proof, a different paper


def test_one_rewrite_can_complete_another(wechat: WeChatSim):
    # 咋 → 怎么 makes 怎么开 (开具); 审和 → 审核 makes 审核到哪步 (审核状态).
    user = wechat.user("o_twice")
    user.says("辽宁")
    reply = user.says("试用期的考核证明咋开")
    assert "《试用期考核合格证明》" in reply and "每个单位一份" in reply
    assert "右上角" in user.says("审和到哪步了")  # where the review state is shown


def test_a_size_is_read_against_the_limit_it_is_near(wechat: WeChatSim):
    user = wechat.user("o_sizes")
    user.says("江西")
    assert "画图" in user.says("照片35k提示太大")  # the registration photo's 30K
    assert "200k" in user.says("照片260kb提示太大传不上去")  # the materials' limit


def test_near_misses_offer_numbered_choices(wechat: WeChatSim):
    user = wechat.user("o_q7")
    user.says("河北")
    offered = user.says("许可证")  # the copy, who is exempt, what replaces it: which one?
    assert "您是不是想问" in offered
    first = offered.splitlines()[1]
    assert first.startswith("1. ")
    chosen = user.says("1")
    assert "依据：" in chosen


def test_a_number_with_no_question_pending_is_just_a_question(wechat: WeChatSim):
    reply = wechat.user("o_q8").says("2")
    assert "依据" not in reply


# Facts checked by hand against the notices (not read from faq/): province, question, what the
# answer must hold, and what it must not (another province's figure).
FACTS = [
    (
        "辽宁",
        "助理医师报考执业医师注册时间有什么要求",
        ["2023年8月22日", "2020年8月22日", "2025年"],
        ["8月18日", "8月31日"],
    ),
    (
        "河北",
        "执业助理报考执业医师注册时间要求",
        ["2020年8月18日（含）", "2017年8月18日（含）"],
        ["8月22日", "8月31日"],
    ),
    ("四川", "执助考执医注册时间有啥要求", ["2022年8月31日", "2019年8月31日"], ["8月18日"]),
    ("河北", "带教老师的证书要传吗", ["带教老师", "证书编码"], []),
    ("江西", "学信网备案表要上传吗", ["教育部学历证书电子注册备案表", "江西省职业教育信息网"], []),
    ("河北", "缴费有问题找谁", ["易宝支付", "95070"], []),
    ("四川", "提供虚假材料会怎么处理", ["2年内不得报考"], []),
    ("辽宁", "许可证副本要传哪几页", ["副本", "正本无效", "诊疗科目页"], []),
    ("河北", "毕业证丢了怎么办", ["毕业证明书"], []),
    ("江西", "报名照片超过30K怎么办", ["30K", "画图"], []),
    ("四川", "手机拍的照片能传吗", ["200kb", "1500kb"], []),
]


@pytest.mark.parametrize("province,question,holds,not_holds", FACTS)
def test_answers_hold_the_notices_facts(
    wechat: WeChatSim, province: str, question: str, holds: list[str], not_holds: list[str]
):
    user = wechat.user(f"o_fact_{province}")
    user.says(province)
    reply = user.says(question)
    assert "依据：《" in reply
    for fact in holds:
        assert fact in reply
    for other in not_holds:
        assert other not in reply


def test_cancel_drops_a_pending_numbered_question(wechat: WeChatSim):
    user = wechat.user("o_q9")
    user.says("考试费要交多少钱")
    assert "已取消" in user.says("取消")
    user.says("2")
    assert "您当前的考区：未设置" in user.says("帮助")


def test_a_lone_question_mark_gets_help(wechat: WeChatSim):
    assert "医考助手可以" in wechat.user("o_q10").says("？")
