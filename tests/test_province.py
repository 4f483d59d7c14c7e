"""Choosing a province: by name, in a sentence, by alias; unserved ones said plainly."""

from __future__ import annotations

import pytest

from tests.wechat_sim import WeChatSim


@pytest.mark.parametrize(
    "said,name,title",
    [
        ("江西", "江西", "关于开展2022年医师资格考试报名资格审核工作的通知"),
        ("我是四川考生", "四川", "2024年医师资格考试考生报名资格审核须知"),
        ("石家庄", "河北", "关于开展2022年医师资格考试网上报名及资格审核工作的通知"),
        ("我在石家庄考点报名", "河北", "医师资格考试石家庄考点办公室"),
        ("切换到辽宁", "辽宁", "医师资格考试报名有关要求"),
    ],
)
def test_naming_a_province_sets_it_and_cites_its_notice(wechat: WeChatSim, said, name, title):
    user = wechat.user("o_prov")
    reply = user.says(said)
    assert f"考区设为「{name}」" in reply
    assert title in reply
    assert f"您当前的考区：{name}" in user.says("帮助")


def test_province_can_be_changed_any_time(wechat: WeChatSim):
    user = wechat.user("o_change")
    user.says("河北")
    user.says("我是江西考生")
    assert "您当前的考区：江西" in user.says("帮助")


def test_a_question_naming_a_province_does_not_change_it(wechat: WeChatSim):
    user = wechat.user("o_question")
    user.says("四川")
    user.says("河北的缴费标准是多少")
    assert "您当前的考区：四川" in user.says("帮助")


@pytest.mark.parametrize("said", ["广东", "我是广东考生", "山西省"])
def test_a_province_we_hold_no_notice_for_is_said_plainly(wechat: WeChatSim, said):
    user = wechat.user("o_elsewhere")
    reply = user.says(said)
    assert "暂时没有" in reply
    assert "江西、辽宁、河北、四川" in reply
    assert "未设置" in user.says("帮助")
