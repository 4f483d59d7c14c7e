"""`python -m bot chat` on a machine with nothing configured: embedded Redis, fake WeChat API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.redis_server import embedded_running


def test_chat_in_the_terminal_on_embedded_defaults(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_URL"))}
    env["DATA_DIR"] = str(tmp_path / "var")
    said = "/subscribe\n我是河北考生\n帮助\n人工\n取消\n/quit\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--openid", "o_terminal"],
        input=said,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "欢迎关注医考助手" in out
    assert "考区设为「河北」" in out
    assert "您当前的考区：河北" in out
    assert "正在为您转接" in out
    assert "已结束人工服务" in out
    assert not embedded_running(tmp_path / "var")  # the chat stopped the Redis it started
