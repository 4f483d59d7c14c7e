"""Offices import candidates and read them back, only within their own scope."""

from __future__ import annotations

import subprocess
import sys

import redis
from flask.testing import FlaskClient

from bot.services import Services
from bot.settings import Settings
from tests.conftest import env_of
from tests.registry_helpers import LI, ZHANG, bearer, office

CSV = (
    "\ufeff报名号,姓名,证件号码,考区,考点,类别,手机号\n"
    "220130100001,张三,130102199001011234,河北,石家庄,临床执业医师,13800138000\n"
    "220130100002,李四,13010219920202567X,河北,保定,临床执业助理医师,\n"
    "22013,王五,130102199303031111,河北,石家庄,临床执业医师,\n"
    "220130100004,赵六,130102199404042222,河北,石家庄,临床执业医师,1234\n"
)


def test_a_csv_with_bad_rows_applies_nothing_and_names_each_line(
    client: FlaskClient, services: Services
):
    token = office(services)
    response = client.post(
        "/api/candidates/import",
        data=CSV.encode(),
        headers={**bearer(token), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    report = response.get_json()
    assert report["applied"] is False and report["created"] == 0
    problems = {(p["line"], p["field"]) for p in report["problems"]}
    assert problems == {(4, "registration"), (5, "phone")}
    assert client.get("/api/candidates/220130100001", headers=bearer(token)).status_code == 404

    applied = client.post(
        "/api/candidates/import?apply_valid=true",
        data=CSV.encode(),
        headers={**bearer(token), "Content-Type": "text/csv"},
    ).get_json()
    assert (applied["applied"], applied["created"], len(applied["problems"])) == (True, 2, 2)


def test_imports_are_idempotent_and_a_reimport_updates(client: FlaskClient, services: Services):
    token = office(services)
    first = client.post("/api/candidates/import", json=[ZHANG, LI], headers=bearer(token))
    assert first.get_json()["created"] == 2
    again = client.post("/api/candidates/import", json=[ZHANG, LI], headers=bearer(token))
    assert (again.get_json()["unchanged"], again.get_json()["created"]) == (2, 0)
    moved = client.post(
        "/api/candidates/import",
        json={"candidates": [{**LI, "category": "中医执业助理医师"}]},
        headers=bearer(token),
    ).get_json()
    assert moved["updated"] == 1
    body = client.get("/api/candidates/220130100002", headers=bearer(token)).get_json()
    assert body["candidate"]["category"] == "中医执业助理医师"
    # Same state: no new version and no push, but the edit and who made it are recorded.
    assert [(c["kind"], c["version"], c["by"]) for c in body["history"]] == [
        ("imported", 1, "hebei-考区"),
        ("edited", 1, "hebei-考区"),
    ]


def test_reimporting_a_roster_keeps_the_review_states_set_since(
    client: FlaskClient, services: Services
):
    token = office(services)
    client.post("/api/candidates/import", json=[ZHANG], headers=bearer(token))
    client.put(
        "/api/candidates/220130100001/state",
        json={
            "status": "考点通过",
            "locked": False,
            "correction_deadline": "2022-02-10 18:00",  # no zone: Beijing time
            "feedback": [{"text": "请补传许可证副本", "at": "2022-02-08 10:20"}],
        },
        headers=bearer(token),
    )
    again = client.post("/api/candidates/import", json=[ZHANG], headers=bearer(token)).get_json()
    assert again["unchanged"] == 1
    state = client.get("/api/candidates/220130100001", headers=bearer(token)).get_json()[
        "candidate"
    ]["state"]
    assert state["status"] == "考点通过" and state["locked"] is False
    assert state["correction_deadline"] == "2022-02-10T18:00:00+08:00"
    assert state["feedback"][0]["text"] == "请补传许可证副本"


def test_a_state_update_changes_what_it_names_and_keeps_the_rest(
    client: FlaskClient, services: Services
):
    token = office(services)
    client.post("/api/candidates/import", json=[ZHANG], headers=bearer(token))
    url = "/api/candidates/220130100001/state"
    client.put(
        url,
        json={
            "locked": False,
            "feedback": [{"text": "照片不清晰", "at": "2022-02-08T10:20:00+08:00"}],
        },
        headers=bearer(token),
    )
    client.put(url, json={"status": "考点通过"}, headers=bearer(token))
    state = client.get("/api/candidates/220130100001", headers=bearer(token)).get_json()[
        "candidate"
    ]["state"]
    assert (state["status"], state["locked"], len(state["feedback"])) == ("考点通过", False, 1)
    # No body, or nothing to change: refused, never read as "reset to the defaults".
    no_json = client.put(url, data="status=审核通过", headers=bearer(token))
    assert no_json.status_code == 400
    assert client.put(url, json={}, headers=bearer(token)).status_code == 422
    twice = client.post(
        "/api/candidates/states",
        json={
            "updates": [
                {"registration": "220130100001", "status": "审核通过"},
                {"registration": "220130100001", "status": "审核拒绝"},
            ]
        },
        headers=bearer(token),
    )
    assert twice.status_code == 422 and "twice" in twice.get_json()["error"]["message"]


def test_short_identity_numbers_are_still_mostly_hidden(client: FlaskClient, services: Services):
    token = office(services)
    permit = {**LI, "id_number": "H12345678"}  # a 9-character 港澳居民来往内地通行证
    client.post("/api/candidates/import", json=[permit], headers=bearer(token))
    shown = client.get("/api/candidates/220130100002", headers=bearer(token)).get_json()
    assert shown["candidate"]["id_number"] == "H1*****78"


def test_id_numbers_and_phones_are_never_stored_in_clear(
    client: FlaskClient, services: Services, redis_client: redis.Redis
):
    token = office(services)
    client.post("/api/candidates/import", json=[ZHANG], headers=bearer(token))
    stored = b"".join(_values(redis_client, k) for k in redis_client.scan_iter("yk:*"))
    assert b"220130100001" in stored  # the reading works: the record is there
    for secret in (b"130102199001011234", b"13800138000", b"011234"):
        assert secret not in stored
    shown = client.get("/api/candidates/220130100001", headers=bearer(token)).get_json()
    assert shown["candidate"]["id_number"] == "1301**********1234"
    assert shown["candidate"]["phone"] == "138****8000"


def test_an_office_never_reaches_another_offices_candidates(
    client: FlaskClient, services: Services
):
    hebei, liaoning = office(services), office(services, "liaoning")
    shijiazhuang = office(services, "hebei", "石家庄")
    client.post("/api/candidates/import", json=[ZHANG, LI], headers=bearer(hebei))

    for token, reg in ((liaoning, "220130100001"), (shijiazhuang, "220130100002")):
        assert client.get(f"/api/candidates/{reg}", headers=bearer(token)).status_code == 404
        put = client.put(
            f"/api/candidates/{reg}/state", json={"status": "审核拒绝"}, headers=bearer(token)
        )
        assert put.status_code == 404
        assert (
            client.delete(f"/api/candidates/{reg}/binding", headers=bearer(token)).status_code
            == 404
        )
        assert (
            client.post(f"/api/candidates/{reg}/binding-code", headers=bearer(token)).status_code
            == 404
        )
    # Importing someone else's row is refused, and does not overwrite it.
    stolen = client.post(
        "/api/candidates/import",
        json=[{**ZHANG, "province": "liaoning"}],
        headers=bearer(liaoning),
    ).get_json()
    assert stolen["applied"] is False  # nothing applied: the row is reported, not taken
    assert stolen["problems"][0]["reason"] == "报名号已由其他考区或考点登记"
    outside = client.post("/api/candidates/import", json=[ZHANG], headers=bearer(liaoning))
    assert outside.get_json()["problems"][0]["field"] == "province"
    assert (
        client.get("/api/candidates/220130100001", headers=bearer(shijiazhuang)).status_code == 200
    )
    assert client.get("/api/candidates/220130100001").status_code == 401


def test_state_updates_are_validated_with_clear_json_errors(
    client: FlaskClient, services: Services
):
    token = office(services)
    client.post("/api/candidates/import", json=[ZHANG], headers=bearer(token))
    bad = client.post(
        "/api/candidates/states",
        json={"updates": [{"registration": "220130100001", "status": "通过了"}]},
        headers=bearer(token),
    )
    assert bad.status_code == 422
    assert "updates.0.status" in bad.get_json()["error"]["message"]
    locked_deadline = client.put(
        "/api/candidates/220130100001/state",
        json={"locked": True, "correction_deadline": "2022-02-10T18:00:00+08:00"},
        headers=bearer(token),
    )
    assert locked_deadline.status_code == 422
    refused = locked_deadline.get_json()
    assert refused["outcome"] == "invalid" and "correction_deadline" in refused["reason"]


def test_payment_state_only_where_the_province_collects_fees_online(
    client: FlaskClient, services: Services
):
    liaoning = office(services, "liaoning")
    row = {**ZHANG, "registration": "210100000001", "province": "liaoning"}
    client.post("/api/candidates/import", json=[row], headers=bearer(liaoning))
    refused = client.put(
        "/api/candidates/210100000001/state",
        json={"status": "审核通过", "payment": "待缴费"},
        headers=bearer(liaoning),
    )
    assert refused.status_code == 422
    assert refused.get_json()["outcome"] == "invalid"


def test_the_openapi_document_describes_the_candidate_endpoints(client: FlaskClient):
    doc = client.get("/api/openapi.json").get_json()
    for path in (
        "/api/candidates/import",
        "/api/candidates/states",
        "/api/candidates/{registration}/state",
        "/api/candidates/{registration}",
        "/api/candidates/{registration}/binding-code",
    ):
        assert path in doc["paths"]
    assert "CandidateRow" in doc["components"]["schemas"]
    status = doc["components"]["schemas"]["ReviewState"]["properties"]["status"]
    assert set(status["enum"]) == {"填报", "考点通过", "审核通过", "审核拒绝"}


def test_the_import_command_reports_bad_lines(settings: Settings, tmp_path, services: Services):
    path = tmp_path / "candidates.csv"
    path.write_text(CSV, encoding="utf-8")
    env = env_of(settings)

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "import", str(path), "--province", "hebei", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    refused = run()
    assert refused.returncode == 1
    assert "candidates.csv:4: 22013: registration" in refused.stderr
    assert "nothing imported" in refused.stderr
    done = run("--apply-valid")
    assert done.returncode == 0, done.stderr
    assert "2 created" in done.stdout
    assert services.registry.store.candidate("220130100001") is not None


def _values(client: redis.Redis, key: bytes) -> bytes:
    """A key's values as stored, whatever its type (DUMP would compress them)."""
    kind = client.type(key)
    if kind == b"string":
        return client.get(key) or b""
    if kind == b"hash":
        return b"".join(k + v for k, v in client.hgetall(key).items())
    if kind == b"list":
        return b"".join(client.lrange(key, 0, -1))
    if kind == b"set":
        return b"".join(client.smembers(key))
    if kind == b"zset":
        return b"".join(m for m, _ in client.zrange(key, 0, -1, withscores=True))
    return b""


def test_a_row_with_a_deadline_but_locked_is_reported_by_its_line(
    client: FlaskClient, services: Services
):
    csv = (
        "报名号,姓名,证件号码,考区,考点,类别,锁定,修改截止\n"
        "220130100001,张三,130102199001011234,河北,石家庄,临床执业医师,未锁定,2022-02-10 18:00\n"
        "220130100002,李四,13010219920202567X,河北,保定,临床执业助理医师,已锁定,2022-02-10 18:00\n"
    )
    token = office(services)
    report = client.post(
        "/api/candidates/import",
        data=csv.encode(),
        headers={**bearer(token), "Content-Type": "text/csv"},
    ).get_json()
    assert [(p["line"], p["registration"]) for p in report["problems"]] == [(3, "220130100002")]
    assert "correction_deadline" in report["problems"][0]["reason"]
