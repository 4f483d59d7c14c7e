"""The whole path once through a real gunicorn server over HTTP, as deployed by the Procfile."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.settings import Settings
from tests.conftest import env_of, sim_for

ROOT = Path(__file__).resolve().parents[1]


class Http:
    """The slice of a test client's interface that WeChatSim uses, over real HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, path: str, query_string: dict[str, str], data: bytes) -> requests.Response:
        return requests.post(self.base + path, params=query_string, data=data, timeout=10)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.base + path, timeout=10, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gunicorn(settings: Settings, redis_client, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "bot:create_app()",
            ],
            cwd=ROOT,
            env=env_of(settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/healthz", timeout=5).ok:
                break
        except requests.RequestException:
            pass  # not listening yet, or a worker still booting
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"gunicorn did not start: {log.read_text()}")
        time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=30)


def test_a_conversation_through_gunicorn(gunicorn: str, settings: Settings):
    wechat = sim_for(Http(gunicorn), settings)
    user = wechat.user("o_gunicorn")
    assert "考区设为「四川」" in user.says("我是四川考生")
    assert "您当前的考区：四川" in user.says("帮助")  # state shared by both workers via Redis
    forged = wechat.post(user.text_message("帮助"), tamper="signature")
    assert forged.status == 403
    huge = requests.post(gunicorn + "/wechat", data=b"x" * (5 * 1024 * 1024), timeout=30)
    assert huge.status_code == 413
    assert "医考助手可以" in user.says("帮助")  # still serving
