"""The outbound API: one shared access token, refreshed once on token errors; late answers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from bot import jobs
from bot.app import create_app
from bot.conversation import Context, Route
from bot.fake_wechat import FakeWeChat
from bot.messages import Reply
from bot.router import ROUTES, says
from bot.services import Services
from bot.settings import Settings
from tests.conftest import env_of, sim_for


def sent_texts(fake: FakeWeChat, openid: str) -> list[str]:
    calls = requests.get(f"{fake.url}/_fake/calls", params={"touser": openid}, timeout=5).json()
    return [
        c["body"]["text"]["content"]
        for c in calls["calls"]
        if c["api"] == "custom_send" and c["errcode"] == 0
    ]


def fail_next(fake: FakeWeChat, errcode: int, times: int = 1, api: str | None = None) -> None:
    requests.post(
        f"{fake.url}/_fake/fail", json={"errcode": errcode, "times": times, "api": api}, timeout=5
    )


def test_two_processes_share_one_access_token(
    settings: Settings, fake_wechat: FakeWeChat, redis_url: str
):
    script = textwrap.dedent("""
        from bot.services import Services
        from bot.settings import load_settings
        Services(load_settings()).wechat.send_text("o_shared", "来自进程")
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env_of(settings)) for _ in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    assert sent_texts(fake_wechat, "o_shared") == ["来自进程", "来自进程"]
    assert fake_wechat.state.token_requests == 1


def test_an_invalid_token_is_refreshed_and_the_call_retried_once(
    services: Services, fake_wechat: FakeWeChat
):
    services.wechat.send_text("o_tok", "第一条")
    fail_next(fake_wechat, 40001, api="custom_send")
    services.wechat.send_text("o_tok", "第二条")
    assert sent_texts(fake_wechat, "o_tok") == ["第一条", "第二条"]
    assert fake_wechat.state.token_requests == 2


def test_a_token_refused_twice_is_an_error_not_a_loop(services: Services, fake_wechat: FakeWeChat):
    fail_next(fake_wechat, 42001, times=5, api="custom_send")
    with pytest.raises(WeChatClientException) as raised:
        services.wechat.send_text("o_tok", "发不出去")
    assert raised.value.errcode == 42001
    assert fake_wechat.state.token_requests == 2


def test_other_errors_are_raised_to_the_caller(services: Services, fake_wechat: FakeWeChat):
    fail_next(fake_wechat, 45009, api="custom_send")
    with pytest.raises(WeChatClientException) as raised:
        services.wechat.send_text("o_limit", "超限")
    assert raised.value.errcode == 45009


def late_answer(ctx: Context) -> Reply:
    """Work that cannot finish within WeChat's 5 seconds goes to the worker."""
    return ctx.defer(jobs.send_text, ctx.openid, "这是稍后送达的回答")


def test_slow_work_replies_success_now_and_answers_through_the_worker(
    settings: Settings, services: Services, fake_wechat: FakeWeChat, run_jobs
):
    app = create_app(settings, services, routes=(Route(says("慢问题"), late_answer), *ROUTES))
    user = sim_for(app.test_client(), settings).user("o_late")
    posted = user.send(MsgType="text", Content="慢问题", MsgId="88001")
    assert posted.body == b"success"
    assert sent_texts(fake_wechat, "o_late") == []
    run_jobs()
    assert sent_texts(fake_wechat, "o_late") == ["这是稍后送达的回答"]


def test_menu_command_creates_the_menu_from_data(settings: Settings, fake_wechat: FakeWeChat):
    done = subprocess.run(
        [sys.executable, "-m", "bot", "menu"],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    calls = requests.get(f"{fake_wechat.url}/_fake/calls", timeout=5).json()["calls"]
    menu = next(c["body"] for c in calls if c["api"] == "menu_create")
    names = [b["name"] for b in menu["button"]]
    assert names == ["材料清单", "常见问题", "我的"]
    leaves = [s["name"] for b in menu["button"] for s in b.get("sub_button", [b])]
    assert "人工客服" in leaves and "我的审核" in leaves
