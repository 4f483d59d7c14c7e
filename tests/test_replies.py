"""Replies are well-formed XML whatever the user typed, and long ones are paginated with 更多."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask.testing import FlaskClient

from bot.app import create_app
from bot.conversation import Context, Route
from bot.messages import Inbound, Text, render
from bot.router import ROUTES, says
from bot.services import Services
from bot.settings import Settings
from tests.conftest import sim_for


def test_cdata_terminator_in_user_text_does_not_break_the_reply(wechat):
    typed = "明天]]><Content>伪造</Content><![CDATA[天气如何"
    reply = wechat.user("o_cdata").says(typed)
    assert typed[:30] in reply  # the bot quotes the question back, intact


def test_render_keeps_any_text_intact():
    msg = Inbound.model_validate(
        {
            "ToUserName": "gh",
            "FromUserName": "o]]>x",
            "CreateTime": 1,
            "MsgType": "text",
            "Content": "x",
        }
    )
    nasty = "a]]>b]]]]>c<&>'\"\x7f 中文"
    root = ET.fromstring(render(Text(nasty), msg))
    assert root.findtext("Content") == nasty
    assert root.findtext("ToUserName") == "o]]>x"


LINES = [f"第{i:03d}行：" + "报名资格审核材料说明" * 3 for i in range(1, 101)]  # ~3,400 chars


def long_answer(ctx: Context) -> str:
    return "\n".join(LINES)


def test_long_answer_is_paginated_and_continued_with_more(settings: Settings, services: Services):
    app = create_app(settings, services, routes=(Route(says("长答案"), long_answer), *ROUTES))
    user = sim_for(app.test_client(), settings).user("o_long")
    pages = [user.says("长答案")]
    while "回复「更多」查看下一页" in pages[-1]:
        pages.append(user.says("更多"))
    assert len(pages) >= 3
    assert all(len(page.encode()) <= 2048 for page in pages)
    shown = [line for page in pages for line in page.splitlines() if line.startswith("第")]
    assert shown == LINES  # every line once, in order, none cut in the middle
    assert "没有更多内容了" in user.says("更多")


def test_a_new_question_replaces_the_pages_left(settings: Settings, services: Services):
    app = create_app(settings, services, routes=(Route(says("长答案"), long_answer), *ROUTES))
    user = sim_for(app.test_client(), settings).user("o_long2")
    user.says("长答案")
    user.says("帮助")
    assert "没有更多内容了" in user.says("更多")


def test_unused_client_fixture(client: FlaskClient):
    assert client.get("/healthz").data == b"ok"
