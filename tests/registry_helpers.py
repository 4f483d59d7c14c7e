"""Shared steps of the registry tests: an office's token, its imports and updates, the pushes
the fake WeChat API received."""

from __future__ import annotations

from typing import Any

from bot.fake_wechat import FakeWeChat
from bot.offices import issue_token
from bot.services import Services

ZHANG = {
    "registration": "220130100001",
    "name": "张三",
    "id_number": "130102199001011234",
    "province": "hebei",
    "exam_point": "石家庄",
    "category": "临床执业医师",
    "phone": "13800138000",
}
LI = {
    "registration": "220130100002",
    "name": "李四",
    "id_number": "13010219920202567X",
    "province": "hebei",
    "exam_point": "保定",
    "category": "临床执业助理医师",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def office(services: Services, province: str = "hebei", exam_point: str | None = None) -> str:
    return issue_token(services.store, f"{province}-{exam_point or '考区'}", province, exam_point)


def delivered(fake: FakeWeChat, openid: str | None = None) -> list[dict[str, Any]]:
    """Pushes that reached the user: accepted, and not a deduplicated resend."""
    with fake.state.lock:
        calls = list(fake.state.calls)
    return [
        c
        for c in calls
        if c["api"] in ("template_send", "custom_send")
        and c["errcode"] == 0
        and not c.get("deduplicated")
        and (openid is None or c.get("body", {}).get("touser") == openid)
    ]
