"""`python -m bot serve`: the web and worker processes of the Procfile, plus (in local mode) the
fake WeChat API, started and stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from bot.content.catalog import load_all
from bot.fake_wechat import FakeWeChat
from bot.local import Endpoints
from bot.redis_server import embedded_running, ensure_embedded, stop_embedded
from bot.services import LocalCredentials
from bot.settings import Settings

CHILD_STOP_SECONDS = 30


def serve(settings: Settings, port: int) -> int:
    """Runs until Ctrl-C, SIGTERM or a child's exit; then stops everything it started."""
    load_all()
    env = dict(os.environ)
    owns_redis = settings.redis_url is None and not embedded_running(settings.data_dir)
    if settings.redis_url is None:
        ensure_embedded(settings.data_dir)
    fake = FakeWeChat().start() if settings.local_mode else None
    if fake is not None:
        env["WECHAT_API_BASE_URL"] = fake.url
        Endpoints(
            webhook_url=f"http://127.0.0.1:{port}/wechat",
            fake_api_url=fake.url,
            credentials=LocalCredentials.for_data_dir(settings.data_dir),
        ).save(settings.data_dir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(
            sig, lambda *_: stop.set()
        )  # a second Ctrl-C must not cut the clean-up short
    children = [
        subprocess.Popen([sys.executable, "-m", "bot", "worker"], env=env),
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"0.0.0.0:{port}", "bot:create_app()"],
            env=env,
        ),
    ]
    print(banner(port, local=fake is not None), flush=True)
    while not stop.wait(0.5) and all(child.poll() is None for child in children):
        pass
    _stop_all(children)
    if fake is not None:
        fake.stop()
    if owns_redis:
        stop_embedded(settings.data_dir)
    return 0


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=CHILD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()


def banner(port: int, *, local: bool) -> str:
    lines = [f"医考助手 is serving the WeChat webhook on http://0.0.0.0:{port}/wechat"]
    if local:
        lines += [
            "local mode: development credentials and a fake WeChat API on this machine",
            "  chat with it in another terminal:  .venv/bin/python -m bot chat",
            "  to connect a real Official Account, set WECHAT_TOKEN, WECHAT_APPID, WECHAT_SECRET",
            "  (and WECHAT_ENCODING_AES_KEY for safe mode), and point the platform's",
            f"  服务器地址(URL) at https://<your host>/wechat (this port: {port})",
        ]
    else:
        lines.append("point the platform's 服务器地址(URL) at https://<your host>/wechat")
    lines.append("Ctrl-C stops everything")
    return "\n".join(lines)
