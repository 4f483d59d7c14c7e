"""WeChat's retries: the same reply every time, state changed once, even mid-flight."""

from __future__ import annotations

import threading
import time

from flask import Flask

from bot.app import create_app
from bot.conversation import Context, Route
from bot.router import ROUTES, says
from bot.services import Services
from bot.settings import Settings
from tests.conftest import sim_for
from tests.wechat_sim import Posted, WeChatSim


def count_visit(ctx: Context) -> str:
    """A handler whose effect is visible: it counts how often it ran for this user."""
    seen = int(ctx.profile.facts.get("visits", "0")) + 1
    ctx.profile.facts["visits"] = str(seen)
    return f"第{seen}次"


def slow_count(ctx: Context) -> str:
    time.sleep(0.8)
    return count_visit(ctx)


def counting_app(settings: Settings, services: Services) -> Flask:
    extra = (Route(says("计数"), count_visit), Route(says("慢计数"), slow_count))
    return create_app(settings, services, routes=(*extra, *ROUTES))


def test_a_retry_gets_the_same_reply_and_changes_nothing(settings: Settings, services: Services):
    wechat = sim_for(counting_app(settings, services).test_client(), settings)
    user = wechat.user("o_retry")
    message = user.text_message("计数")
    first, retry = wechat.post(message), wechat.post(message)
    assert first.text == retry.text == "第1次"
    assert user.says("计数") == "第2次"  # a new message (new MsgId) is handled afresh


def test_a_retry_during_a_slow_first_attempt_waits_for_its_reply(
    settings: Settings, services: Services
):
    wechat = sim_for(counting_app(settings, services).test_client(), settings)
    message = wechat.user("o_slow").text_message("慢计数")
    results: dict[str, Posted] = {}
    first = threading.Thread(target=lambda: results.update(first=wechat.post(message)))
    first.start()
    time.sleep(0.2)  # WeChat retries while the first attempt is still running
    results["retry"] = wechat.post(message)
    first.join()
    assert results["first"].text == results["retry"].text == "第1次"
    assert wechat.user("o_slow").says("计数") == "第2次"


def test_retried_events_are_handled_once(wechat: WeChatSim):
    user = wechat.user("o_event_retry")
    subscribe = wechat.message(user.openid, MsgType="event", Event="subscribe")
    assert "欢迎关注" in wechat.post(subscribe).text
    user.says("河北")
    assert "欢迎关注" in wechat.post(subscribe).text  # the cached welcome, not a new one
    assert "您当前的考区：河北" in user.says("帮助")  # and the province was not reset


def test_a_first_attempt_that_died_is_taken_over_by_the_retry(
    settings: Settings, services: Services
):
    wechat = sim_for(counting_app(settings, services).test_client(), settings)
    message = wechat.user("o_dead").text_message("计数")
    # A process claimed the message and died before answering: its claim is left to lapse.
    services.store.begin("o_dead", message["MsgId"], lease_seconds=0.3, per_minute=30)
    assert wechat.post(message).text == "第1次"


def test_the_lock_orders_one_users_messages(settings: Settings, services: Services):
    """Two quick messages from one user: both updates survive (state is read under the lock)."""
    wechat = sim_for(counting_app(settings, services).test_client(), settings)
    user = wechat.user("o_quick")
    replies: list[str] = []
    threads = [
        threading.Thread(target=lambda: replies.append(user.says("慢计数"))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(replies) == ["第1次", "第2次"]
    assert user.says("计数") == "第3次"


def test_different_users_run_in_parallel(settings: Settings, services: Services):
    spans: dict[str, tuple[float, float]] = {}

    def timed(ctx: Context) -> str:
        start = time.monotonic()
        time.sleep(0.5)
        spans[ctx.openid] = (start, time.monotonic())
        return "ok"

    app = create_app(settings, services, routes=(Route(says("计时"), timed), *ROUTES))
    wechat = sim_for(app.test_client(), settings)
    threads = [
        threading.Thread(target=wechat.user(u).says, args=("计时",)) for u in ("o_a", "o_b")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a_start, a_end), (b_start, b_end) = spans["o_a"], spans["o_b"]
    assert a_start < b_end and b_start < a_end  # the two handlers overlapped in time


def test_rate_limit_says_so_once_then_stays_quiet(settings: Settings, redis_client):
    limited = settings.model_copy(update={"user_messages_per_minute": 3})
    app = create_app(limited, Services(limited, client=redis_client))
    user = sim_for(app.test_client(), limited).user("o_flood")
    replies = [user.says("帮助") for _ in range(5)]
    assert all("医考助手可以" in r for r in replies[:3])
    assert "太频繁" in replies[3]
    assert replies[4] == ""
    assert "医考助手可以" in sim_for(app.test_client(), limited).user("o_calm").says("帮助")


def test_wechats_retry_five_seconds_later_takes_over_a_dead_attempt(
    settings: Settings, services: Services
):
    """With the real lease: the first attempt died; WeChat's retry comes ~5 s later."""
    from bot.conversation import LEASE_SECONDS

    wechat = sim_for(counting_app(settings, services).test_client(), settings)
    message = wechat.user("o_dead5").text_message("计数")
    services.store.begin("o_dead5", message["MsgId"], LEASE_SECONDS, per_minute=30)
    time.sleep(5)
    assert wechat.post(message).text == "第1次"
