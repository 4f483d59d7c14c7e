"""Unanswered questions are counted per province, and offices read only their own."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from flask.testing import FlaskClient

from bot.app import create_app
from bot.offices import issue_token
from bot.services import Services
from bot.settings import Settings
from bot.store import keys
from tests.conftest import env_of
from tests.wechat_sim import WeChatSim


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_offices_see_the_top_unanswered_questions_of_their_province(
    wechat: WeChatSim, client: FlaskClient, services: Services
):
    hebei_user, sichuan_user = wechat.user("o_g1"), wechat.user("o_g2")
    hebei_user.says("河北")
    sichuan_user.says("四川")
    hebei_user.says("考试成绩什么时候出来")
    wechat.user("o_g3").says("我是河北考生")
    wechat.user("o_g3").says("考试成绩什么时候出来")
    hebei_user.says("准考证在哪打印")
    sichuan_user.says("四川的考场安排在哪里")

    hebei = issue_token(services.store, "石家庄考点办公室", "hebei")
    body = client.get("/api/gaps", headers=bearer(hebei)).get_json()
    assert body["province"] == "hebei"
    questions = [(g["question"], g["count"]) for g in body["gaps"]]
    assert questions[0] == ("考试成绩什么时候出来", 2)
    assert ("准考证在哪打印", 1) in questions
    assert all("考场" not in q for q, _ in questions)  # Sichuan's gap is not Hebei's to read

    sichuan = issue_token(services.store, "四川考区", "sichuan")
    theirs = client.get("/api/gaps", headers=bearer(sichuan)).get_json()["gaps"]
    assert [g["question"] for g in theirs] == ["四川的考场安排在哪里"]


def test_a_question_nobody_asks_again_leaves_the_list(services: Services):
    store, day = services.store, 86400.0
    start = 1_800_000_000.0
    store.count_unanswered("hebei", "去年的问题", now=start)
    store.count_unanswered("hebei", "今年的问题", now=start + 100 * day)
    store.count_unanswered("hebei", "去年的问题", now=start + 150 * day)  # asked again: kept
    store.count_unanswered("hebei", "只问过一次", now=start + 151 * day)
    assert {g.question for g in store.unanswered("hebei", 10)} == {
        "去年的问题",
        "今年的问题",
        "只问过一次",
    }
    store.count_unanswered("hebei", "新问题", now=start + 300 * day)
    left = {g.question: g for g in store.unanswered("hebei", 10)}
    assert set(left) == {"去年的问题", "只问过一次", "新问题"}  # 今年的问题: 200 days unasked
    assert left["去年的问题"].count == 2
    assert left["新问题"].last_asked == start + 300 * day


def test_the_list_leaves_out_stale_questions_even_when_nobody_asks_anything(
    services: Services,
):
    store, day = services.store, 86400.0
    store.count_unanswered("sichuan", "冷门问题", now=1_800_000_000.0)
    assert [g.question for g in store.unanswered("sichuan", 10, now=1_800_000_000.0)] == [
        "冷门问题"
    ]
    assert store.unanswered("sichuan", 10, now=1_800_000_000.0 + 181 * day) == []


def test_gaps_counted_by_an_earlier_version_are_adopted_at_start(
    services: Services, settings: Settings
):
    # The earlier layout: counts in yk:gaps:<p>, last-asked times in a hash beside them.
    old_counts, old_last = keys.old_gaps("jiangxi")
    services.redis.zadd(old_counts, {"老问题": 3, "没有时间的问题": 1})
    services.redis.hset(old_last, "老问题", f"{time.time() - 86400:.0f}")
    create_app(settings, services)
    gaps = {g.question: g for g in services.store.unanswered("jiangxi", 10)}
    assert gaps["老问题"].count == 3 and gaps["没有时间的问题"].count == 1
    assert time.time() - gaps["老问题"].last_asked == pytest.approx(86400, abs=60)
    assert not services.redis.exists(old_counts, old_last)
    create_app(settings, services)  # a second start changes nothing
    assert services.store.unanswered("jiangxi", 10)[0].count == 3


def test_the_api_refuses_without_a_valid_token(client: FlaskClient):
    for headers in ({}, bearer("yk_made_up"), {"Authorization": "Basic abc"}):
        response = client.get("/api/gaps", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/nothing-here").status_code == 401


def test_bad_parameters_get_a_clear_json_error(client: FlaskClient, services: Services):
    token = issue_token(services.store, "考区", "jiangxi")
    response = client.get("/api/gaps?top=0", headers=bearer(token))
    assert response.status_code == 422
    assert "top" in response.get_json()["error"]["message"]


def test_only_the_openapi_document_is_public(client: FlaskClient):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/gaps" in doc["paths"]


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gaps_and_token_commands(wechat: WeChatSim, settings: Settings):
    user = wechat.user("o_cli")
    user.says("江西")
    user.says("考试成绩什么时候出来")
    listed = cli(settings, "gaps", "--province", "jiangxi")
    assert listed.returncode == 0, listed.stderr
    assert "考试成绩什么时候出来" in listed.stdout
    made = cli(settings, "token", "--office", "江西考区", "--province", "jiangxi")
    assert made.returncode == 0 and made.stdout.startswith("yk_")
    refused = cli(settings, "token", "--office", "x", "--province", "guangdong")
    assert refused.returncode == 2 and "guangdong" in refused.stderr


def test_numbers_that_may_identify_someone_are_not_kept_in_the_gaps(
    wechat: WeChatSim, client: FlaskClient, services: Services
):
    user = wechat.user("o_digits")
    user.says("河北")
    user.says("130102199001011234的考试成绩什么时候出来")
    token = issue_token(services.store, "考区", "hebei")
    gaps = client.get("/api/gaps", headers=bearer(token)).get_json()["gaps"]
    assert [g["question"] for g in gaps] == ["#" * 18 + "的考试成绩什么时候出来"]


def test_a_revoked_token_is_refused_at_once(settings: Settings, client: FlaskClient):
    made = cli(settings, "token", "--office", "石家庄考点", "--province", "hebei").stdout.strip()
    other = cli(settings, "token", "--office", "四川考区", "--province", "sichuan").stdout.strip()
    assert client.get("/api/gaps", headers=bearer(made)).status_code == 200
    listing = cli(settings, "tokens").stdout
    assert "石家庄考点" in listing and made not in listing  # ids, never the tokens
    token_id = next(line.split()[0] for line in listing.splitlines() if "石家庄考点" in line)
    assert cli(settings, "revoke", token_id[:6]).returncode == 1  # too short to be sure
    done = cli(settings, "revoke", token_id)
    assert done.returncode == 0 and "石家庄考点" in done.stdout
    assert client.get("/api/gaps", headers=bearer(made)).status_code == 401
    assert client.get("/api/gaps", headers=bearer(other)).status_code == 200
