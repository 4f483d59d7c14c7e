"""Candidates bind through the webhook; every state change reaches them once, whatever WeChat
answers. The office's side goes through the admin API; pushes go to the fake WeChat API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from bot import jobs
from bot.fake_wechat import FakeWeChat
from bot.push import TokenBucket, TryLater, client_msg_id
from bot.services import Services
from bot.settings import Settings
from bot.store import keys
from bot.worker import make_thread_worker
from tests.conftest import sim_for
from tests.registry_helpers import LI, ZHANG, bearer, delivered, office
from tests.test_gunicorn import Http
from tests.wechat_sim import WeChatSim

TEMPLATE = "TPL_review_result"
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"review_template_id": TEMPLATE})


@pytest.fixture
def hebei(client: FlaskClient, services: Services) -> str:
    token = office(services)
    assert (
        client.post("/api/candidates/import", json=[ZHANG, LI], headers=bearer(token)).status_code
        == 200
    )
    return token


def bind(wechat: WeChatSim, openid: str, registration: str, identity: str) -> str:
    user = wechat.user(openid)
    assert "报名号" in user.says("绑定")
    assert "后6位" in user.says(registration)
    return user.says(identity)


def update(client: FlaskClient, token: str, registration: str, **state: Any) -> dict[str, Any]:
    response = client.put(
        f"/api/candidates/{registration}/state", json=state, headers=bearer(token)
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


FEEDBACK = {
    "status": "填报",
    "locked": False,
    "correction_deadline": "2022-02-10T18:00:00+08:00",
    "feedback": [
        {
            "text": "毕业证编号无法辨别，请重新上传！",
            "at": "2022-02-08T10:20:00+08:00",
            "level": "考点",
        }
    ],
}


# -- end to end, over real HTTP ------------------------------------------------------------------
@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_import_bind_update_push_over_http(
    served: str,
    settings: Settings,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    token = office(services)
    auth = bearer(token)
    imported = requests.post(
        f"{served}/api/candidates/import", json=[ZHANG], headers=auth, timeout=10
    )
    assert imported.json()["created"] == 1

    user = sim_for(Http(served), settings).user("o_zhang")
    assert "还没有绑定" in user.says("我的审核")  # nothing before binding
    user.says("绑定")
    user.says("220130100001")
    bound = user.says("张三 011234")
    assert "绑定成功" in bound and "220130100001" in bound

    changed = requests.put(
        f"{served}/api/candidates/220130100001/state", json=FEEDBACK, headers=auth, timeout=10
    )
    assert changed.json() == {"registration": "220130100001", "outcome": "changed", "version": 2}
    run_jobs()
    pushes = delivered(fake_wechat, "o_zhang")
    assert len(pushes) == 1
    body = pushes[0]["body"]
    assert body["template_id"] == TEMPLATE
    assert "first" not in body["data"] and "remark" not in body["data"]
    assert body["data"]["character_string1"]["value"] == "220130100001"
    assert body["data"]["phrase2"]["value"] == "填报"
    assert body["data"]["thing3"]["value"].startswith("毕业证编号无法辨别")
    assert len(body["data"]["thing3"]["value"]) <= 20

    # The office re-sends the same update: nothing changes, nothing more is pushed.
    again = requests.put(
        f"{served}/api/candidates/220130100001/state", json=FEEDBACK, headers=auth, timeout=10
    )
    assert again.json()["outcome"] == "unchanged"
    run_jobs()
    assert len(delivered(fake_wechat, "o_zhang")) == 1

    mine = user.says("我的审核")
    assert "毕业证编号无法辨别，请重新上传！" in mine
    assert "未锁定" in mine and "2022年02月10日 18:00" in mine
    assert "依据：《考生服务系统操作指南》附件3 问题11" in mine
    read = requests.get(f"{served}/api/candidates/220130100001", headers=auth, timeout=10).json()
    assert [d["status"] for d in read["deliveries"]] == ["sent"]
    assert read["history"][-1]["by"] == "hebei-考区"


# -- binding -------------------------------------------------------------------------------------
def test_a_wrong_proof_says_the_same_whatever_was_wrong(wechat: WeChatSim, hebei: str):
    wrong_name = bind(wechat, "o_a", "220130100001", "张四 011234")
    wrong_digits = bind(wechat, "o_b", "220130100001", "张三 011235")
    unknown = bind(wechat, "o_c", "229999999999", "张三 011234")
    assert wrong_name == wrong_digits == unknown
    assert "不一致" in unknown and "220130100001" not in unknown and "石家庄" not in unknown


def test_five_failures_an_hour_then_a_cooldown(wechat: WeChatSim, hebei: str):
    for _ in range(5):
        assert "不一致" in bind(wechat, "o_brute", "220130100001", "张三 000000")
    blocked = bind(wechat, "o_brute", "220130100001", "张三 011234")  # even the right proof
    assert "尝试次数过多" in blocked and "分钟后再试" in blocked
    # The 报名号 itself is protected too: another account gets the cool-down for it.
    assert "尝试次数过多" in bind(wechat, "o_other", "220130100001", "张三 011234")
    # ... while that account may still bind a registration nobody attacked.
    assert "绑定成功" in bind(wechat, "o_other", "220130100002", "李四 02567x")


def test_one_registration_one_account(wechat: WeChatSim, hebei: str, client: FlaskClient):
    assert "绑定成功" in bind(wechat, "o_first", "220130100001", "张三 011234")
    taken = bind(wechat, "o_second", "220130100001", "张三 011234")
    assert "另一个微信号" in taken
    assert "已解除绑定" in wechat.user("o_first").says("解绑")
    assert "绑定成功" in bind(wechat, "o_second", "220130100001", "张三 011234")
    # The office releases it for a candidate who lost that account.
    assert (
        client.delete("/api/candidates/220130100001/binding", headers=bearer(hebei)).status_code
        == 200
    )
    assert "还没有绑定" in wechat.user("o_second").says("我的审核")
    assert "绑定成功" in bind(wechat, "o_third", "220130100001", "张三 011234")


def test_binding_in_one_message_and_with_an_office_code(
    wechat: WeChatSim, hebei: str, client: FlaskClient
):
    assert "绑定成功" in wechat.user("o_fast").says("绑定 220130100001 张三 011234")
    code = client.post(
        "/api/candidates/220130100002/binding-code", headers=bearer(hebei)
    ).get_json()
    user = wechat.user("o_code")
    user.says("绑定")
    assert "绑定成功" in user.says(code["code"].lower())
    user.says("解绑")
    user.says("绑定")
    assert "绑定码无效" in user.says(code["code"])  # one use only
    # Re-issuing voids the code before; a code refused (the registration is bound to another
    # account) is not used up by the refusal.
    first = client.post("/api/candidates/220130100001/binding-code", headers=bearer(hebei))
    newer = client.post("/api/candidates/220130100001/binding-code", headers=bearer(hebei))
    user.says("绑定")
    assert "绑定码无效" in user.says(first.get_json()["code"])
    user.says("绑定")
    assert "另一个微信号" in user.says(newer.get_json()["code"])  # o_fast holds it
    wechat.user("o_fast").says("解绑")
    user.says("绑定")
    assert "绑定成功" in user.says(newer.get_json()["code"])


def test_unfollowing_unbinds(wechat: WeChatSim, hebei: str, services: Services):
    bind(wechat, "o_leaving", "220130100001", "张三 011234")
    wechat.user("o_leaving").event("unsubscribe")
    candidate = services.registry.store.candidate("220130100001")
    assert candidate is not None and candidate.openid is None


def test_the_end_of_a_binding_forgets_who_the_pushes_went_to(
    bound: str,
    client: FlaskClient,
    services: Services,
    wechat: WeChatSim,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    update(client, bound, "220130100001", status="审核通过")  # queued, not yet sent
    wechat.user("o_push").event("unsubscribe")
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 1
    sent, queued = delivery_of(services, 2), delivery_of(services, 3)
    assert (sent.status, sent.openid) == ("sent", None)
    assert (queued.status, queued.reason, queued.openid) == ("skipped", "unbound", None)
    # Nothing kept names them; only short-lived guards (message dedupe, rate, bind attempts).
    redis = services.redis
    naming = [
        k for k in redis.scan_iter("yk:*") if b"o_push" in k or b"o_push" in (redis.dump(k) or b"")
    ]
    assert naming and all(0 < redis.ttl(k) <= 3600 for k in naming), naming


def test_a_binding_ending_during_a_send_still_forgets_the_recipient(
    bound: str, client: FlaskClient, services: Services, wechat: WeChatSim
):
    update(client, bound, "220130100001", status="考点通过")
    store = services.registry.store
    held = store.claim_delivery("220130100001", "v2", 30)  # a worker is sending it…
    assert held is not None and held.openid == "o_push"
    wechat.user("o_push").says("解绑")  # …when the candidate unbinds
    store.put_delivery("220130100001", held.model_copy(update={"status": "sent"}))
    settled = delivery_of(services, 2)
    assert (settled.status, settled.openid) == ("sent", None)


def test_hebei_approved_and_unpaid_is_told_to_pay_289(
    wechat: WeChatSim, hebei: str, client: FlaskClient
):
    bind(wechat, "o_pay", "220130100001", "张三 011234")
    update(client, hebei, "220130100001", status="审核通过", payment="待缴费")
    mine = wechat.user("o_pay").says("我的审核")
    assert "289元" in mine and "网上缴费" in mine
    assert "依据：《" in mine and "四(一)" in mine


# -- pushes and WeChat's answers -----------------------------------------------------------------
@pytest.fixture
def bound(wechat: WeChatSim, hebei: str) -> str:
    assert "绑定成功" in bind(wechat, "o_push", "220130100001", "张三 011234")
    return hebei


def fail_next(fake: FakeWeChat, errcode: int, times: int = 1, api: str = "template_send") -> None:
    requests.post(
        f"{fake.url}/_fake/fail", json={"errcode": errcode, "times": times, "api": api}, timeout=5
    )


def delivery_of(services: Services, version: int) -> Any:
    return services.registry.store.delivery("220130100001", f"v{version}")


def test_an_expired_token_is_refreshed_and_the_push_sent_once(
    bound: str, client: FlaskClient, fake_wechat: FakeWeChat, run_jobs: Callable[[], None]
):
    requests.post(f"{fake_wechat.url}/_fake/expire-tokens", timeout=5)  # WeChat says 40001
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    fail_next(fake_wechat, 42001)  # "access_token expired"
    update(client, bound, "220130100001", status="审核通过")
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 2


def test_a_gateway_error_is_retried_and_the_push_delivered_once(
    bound: str,
    client: FlaskClient,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    requests.post(
        f"{fake_wechat.url}/_fake/fail", json={"http": 502, "api": "template_send"}, timeout=5
    )
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 1
    d = delivery_of(services, 2)
    assert (d.status, d.attempts, d.reason) == ("sent", 2, "HTTP 502")


def test_a_quota_error_pauses_every_push_not_only_its_own(
    bound: str,
    client: FlaskClient,
    services: Services,
    wechat: WeChatSim,
    fake_wechat: FakeWeChat,
):
    pusher = dataclasses.replace(services.pusher, pause_seconds=60)
    assert "绑定成功" in bind(wechat, "o_li", LI["registration"], "李四 02567X")
    update(client, bound, "220130100001", status="考点通过")
    update(client, bound, LI["registration"], status="考点通过")
    fail_next(fake_wechat, 45009)  # 本月模板消息次数已达上限
    with pytest.raises(TryLater):
        pusher.deliver("220130100001", "v2", last_attempt=False)
    calls = len(fake_wechat.state.calls)
    with pytest.raises(TryLater, match="paused"):
        pusher.deliver(LI["registration"], "v2", last_attempt=False)
    assert len(fake_wechat.state.calls) == calls  # WeChat was not asked again
    waiting = services.registry.store.delivery(LI["registration"], "v2")
    assert waiting is not None and (waiting.status, waiting.attempts) == ("queued", 0)


def test_an_error_retrying_cannot_fix_fails_the_delivery_at_once(
    bound: str,
    client: FlaskClient,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    fail_next(fake_wechat, 40003)  # invalid openid
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    d = delivery_of(services, 2)
    assert (d.status, d.attempts, d.errcode) == ("failed", 1, 40003)
    candidate = services.registry.store.candidate("220130100001")
    assert candidate is not None and candidate.binding_active  # not the user's doing


def test_a_rate_limit_backs_off_and_retries(
    bound: str,
    client: FlaskClient,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    fail_next(fake_wechat, 45009, times=2)
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 1
    d = delivery_of(services, 2)
    assert (d.status, d.attempts, d.errcode) == ("sent", 3, 45009)


@pytest.mark.parametrize("errcode", [43004, 43101])
def test_a_user_who_cannot_receive_is_marked_inactive_without_retrying(
    errcode: int,
    bound: str,
    client: FlaskClient,
    services: Services,
    wechat: WeChatSim,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    fail_next(fake_wechat, errcode)
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    d = delivery_of(services, 2)
    assert (d.status, d.attempts, d.errcode) == ("failed", 1, errcode)
    candidate = services.registry.store.candidate("220130100001")
    assert candidate is not None and candidate.binding_active is False
    update(client, bound, "220130100001", status="审核通过")
    run_jobs()
    assert delivery_of(services, 3) is None  # no push queued for an inactive binding
    assert delivered(fake_wechat, "o_push") == []
    wechat.user("o_push").says("我的审核")  # writing to us again turns pushes back on
    update(client, bound, "220130100001", status="审核拒绝")
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 1


def test_two_workers_and_a_duplicated_job_push_once(
    bound: str, client: FlaskClient, services: Services, fake_wechat: FakeWeChat
):
    update(client, bound, "220130100001", status="考点通过")
    services.queue.enqueue("bot.jobs.push_review", "220130100001", "v2")  # a stray duplicate
    workers = [make_thread_worker(services) for _ in range(2)]
    threads = [threading.Thread(target=w.work, kwargs={"burst": True}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with fake_wechat.state.lock:
        sends = [c for c in fake_wechat.state.calls if c["api"] == "template_send"]
    assert len(sends) == 1  # one call: the claim kept the other worker from even trying
    assert delivery_of(services, 2).attempts == 1


def test_a_push_cut_off_after_wechat_took_it_is_not_delivered_twice(
    bound: str,
    client: FlaskClient,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    update(client, bound, "220130100001", status="考点通过")
    # A worker sent it and died before writing "sent": the record still says queued.
    services.wechat.send_template(
        "o_push", TEMPLATE, {}, url=None, client_msg_id=client_msg_id("220130100001", "v2")
    )
    run_jobs()  # the retry sends again, with the same client_msg_id
    assert len(delivered(fake_wechat, "o_push")) == 1
    assert delivery_of(services, 2).status == "sent"


def test_the_send_job_finish_event_is_recorded(
    bound: str,
    client: FlaskClient,
    services: Services,
    wechat: WeChatSim,
    run_jobs: Callable[[], None],
):
    update(client, bound, "220130100001", status="考点通过")
    run_jobs()
    msgid = delivery_of(services, 2).msgid
    wechat.user("o_push").event("TEMPLATESENDJOBFINISH", MsgID=msgid, Status="success")
    assert delivery_of(services, 2).finished == "success"
    update(client, bound, "220130100001", status="审核通过")
    run_jobs()
    blocked = delivery_of(services, 3).msgid
    wechat.user("o_push").event("TEMPLATESENDJOBFINISH", MsgID=blocked, Status="failed:user block")
    candidate = services.registry.store.candidate("220130100001")
    assert candidate is not None and candidate.binding_active is False


def test_a_reminder_before_the_deadline_unless_the_state_changed(
    bound: str,
    client: FlaskClient,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    soon = dt.datetime.now(BEIJING) + dt.timedelta(hours=8)
    update(client, bound, "220130100001", **{**FEEDBACK, "correction_deadline": soon.isoformat()})
    run_jobs()
    scheduled = services.queue.scheduled_job_registry.get_job_ids()
    assert scheduled == ["remind-220130100001-v2"]
    jobs.use(services)
    jobs.remind("220130100001", 2)  # what the scheduler runs two hours from now
    run_jobs()
    reminders = delivered(fake_wechat, "o_push")
    assert len(reminders) == 2
    assert reminders[1]["body"]["data"]["thing4"]["value"].startswith("材料待修改")
    jobs.remind("220130100001", 2)  # run twice: still one reminder
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 2

    update(client, bound, "220130100001", status="考点通过", locked=True)  # fixed, re-reviewed
    run_jobs()
    jobs.remind("220130100001", 3)
    jobs.remind("220130100001", 2)  # the old state's reminder: stale, nothing sent
    run_jobs()
    assert len(delivered(fake_wechat, "o_push")) == 3


def test_the_push_bucket_is_shared_and_refills_at_the_set_rate(services: Services):
    bucket = TokenBucket(services.redis, per_second=2)
    other_worker = TokenBucket(services.redis, per_second=2)
    t = 1_000_000
    assert bucket.wait_ms(t) == 0 and other_worker.wait_ms(t) == 0
    assert bucket.wait_ms(t) == 500  # the burst is spent, whoever spent it
    assert other_worker.wait_ms(t + 500) == 0


# -- without a template: customer-service messages, inside WeChat's 48 hours only -------------
def test_without_a_template_the_push_is_a_text_inside_48_hours(
    services: Services,
    client: FlaskClient,
    wechat: WeChatSim,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
    settings: Settings,
):
    plain = Services(
        settings.model_copy(update={"review_template_id": None}), client=services.redis
    )
    jobs.use(plain)
    token = office(plain)
    client.post("/api/candidates/import", json=[ZHANG, LI], headers=bearer(token))
    bind(wechat, "o_recent", "220130100001", "张三 011234")
    bind(wechat, "o_silent", "220130100002", "李四 02567X")
    profile = plain.store.profile("o_silent")
    profile.last_message_at = time.time() - 49 * 3600
    plain.redis.set(keys.user("o_silent", "profile"), profile.model_dump_json())
    update(client, token, "220130100001", status="考点通过")
    update(client, token, "220130100002", status="考点通过")
    make_thread_worker(plain).work(burst=True)
    texts = delivered(fake_wechat)
    assert [c["body"]["touser"] for c in texts] == ["o_recent"]
    assert "考点通过" in texts[0]["body"]["text"]["content"]
    skipped = plain.registry.store.delivery("220130100002", "v2")
    assert skipped is not None and (skipped.status, skipped.reason) == (
        "skipped",
        "outside_48h_window",
    )


def test_a_retry_after_a_later_change_tells_its_own_state_or_nothing(
    bound: str,
    client: FlaskClient,
    services: Services,
    fake_wechat: FakeWeChat,
    run_jobs: Callable[[], None],
):
    update(client, bound, "220130100001", status="考点通过")
    update(client, bound, "220130100001", status="审核通过")
    run_jobs()  # queued in order: both go out, each with its own state
    states = [c["body"]["data"]["phrase2"]["value"] for c in delivered(fake_wechat, "o_push")]
    assert states == ["考点通过", "审核通过"]

    fail_next(fake_wechat, 45009)
    update(client, bound, "220130100001", status="审核拒绝")  # v4: refused for now
    update(client, bound, "220130100001", status="审核通过")  # v5: goes out first
    run_jobs()
    states = [c["body"]["data"]["phrase2"]["value"] for c in delivered(fake_wechat, "o_push")]
    assert states[-1] == "审核通过" and "审核拒绝" not in states  # no older state told last
    late = delivery_of(services, 4)
    assert (late.status, late.reason) == ("skipped", "superseded")


def test_naive_times_are_beijing_time(
    bound: str, client: FlaskClient, services: Services, wechat: WeChatSim
):
    update(client, bound, "220130100001", locked=False, correction_deadline="2022-02-10 18:00")
    candidate = services.registry.store.candidate("220130100001")
    assert candidate is not None and candidate.state.correction_deadline is not None
    assert candidate.state.correction_deadline.utcoffset() == dt.timedelta(hours=8)
    assert "2022年02月10日 18:00" in wechat.user("o_push").says("我的审核")


def test_accounts_racing_on_one_registration_get_five_tries_in_all(hebei: str, services: Services):
    outcomes: list[str] = []

    def guess(n: int) -> None:
        outcomes.append(
            services.bindings.bind(f"o_race_{n}", "220130100001", "张三", "000000").kind
        )

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["cooldown"] * 15 + ["mismatch"] * 5
