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
    assert [c["kind"] for c in body["history"]] == ["imported"]  # same state: no new version


def test_id_numbers_and_phones_are_never_stored_in_clear(
    client: FlaskClient, services: Services, redis_client: redis.Redis
):
    token = office(services)
    client.post("/api/candidates/import", json=[ZHANG], headers=bearer(token))
    dump = b"".join(redis_client.dump(k) or b"" for k in redis_client.scan_iter("yk:*"))
    for secret in (b"130102199001011234", b"13800138000", b"011234"):
        assert secret not in dump
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
    assert "correction_deadline" in locked_deadline.get_json()["error"]["message"]


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
