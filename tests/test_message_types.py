"""Every inbound type WeChat sends gets a sensible answer, never an error."""

from __future__ import annotations

import pytest

from tests.wechat_sim import WeChatSim

UNSERVED_MESSAGES = {
    "video": {"MediaId": "m1", "ThumbMediaId": "t1"},
    "shortvideo": {"MediaId": "m1", "ThumbMediaId": "t1"},
    "location": {"Location_X": "38.04", "Location_Y": "114.51", "Scale": "15", "Label": "石家庄"},
    "link": {"Title": "通知", "Description": "d", "Url": "https://example.invalid/a"},
}


@pytest.mark.parametrize("msg_type", sorted(UNSERVED_MESSAGES))
def test_types_we_do_not_serve_get_a_friendly_word(wechat: WeChatSim, msg_type: str):
    posted = wechat.user("o_types").send(
        MsgType=msg_type, MsgId="77" + str(len(msg_type)), **UNSERVED_MESSAGES[msg_type]
    )
    assert posted.status == 200
    assert "文字、语音和图片" in posted.text
    assert "帮助" in posted.text


def test_voice_is_answered_as_if_typed(wechat: WeChatSim):
    posted = wechat.user("o_voice").send(
        MsgType="voice", MediaId="v1", Format="amr", Recognition="帮助。", MsgId="9001"
    )
    assert "医考助手可以" in posted.text


def test_voice_without_recognition_asks_again(wechat: WeChatSim):
    posted = wechat.user("o_voice").send(MsgType="voice", MediaId="v1", Format="amr", MsgId="9002")
    assert "没有听清" in posted.text


def test_subscribe_welcomes_and_asks_for_the_province(wechat: WeChatSim):
    welcome = wechat.user("o_new").event("subscribe").text
    assert "欢迎关注" in welcome
    assert "江西、辽宁、河北、四川" in welcome


@pytest.mark.parametrize(
    "event,extra",
    [
        ("SCAN", {"EventKey": "123", "Ticket": "t"}),
        ("VIEW", {"EventKey": "https://example.invalid/"}),
        ("LOCATION", {"Latitude": "38.0", "Longitude": "114.5", "Precision": "30"}),
        ("TEMPLATESENDJOBFINISH", {"MsgID": "200163836", "Status": "success"}),
        (
            "MASSSENDJOBFINISH",
            {"MsgID": "1000001625", "Status": "send success", "TotalCount": "1"},
        ),
    ],
)
def test_events_that_need_no_answer_get_success(
    wechat: WeChatSim, event: str, extra: dict[str, str]
):
    posted = wechat.user("o_events").event(event, **extra)
    assert posted.status == 200
    assert posted.body == b"success"


def test_menu_click_is_answered_like_the_words_it_stands_for(wechat: WeChatSim):
    assert "医考助手可以" in wechat.user("o_menu").event("CLICK", EventKey="HELP").text
    assert "请回复您的考区名称" in wechat.user("o_menu").event("CLICK", EventKey="PROVINCE").text


def test_unknown_menu_key_is_not_an_error(wechat: WeChatSim):
    assert wechat.user("o_menu").event("CLICK", EventKey="GONE").status == 200
