"""Command line: `python -m bot serve | worker | chat | menu | validate | fake-wechat`."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable

import requests

from bot.content.catalog import load_all
from bot.content.loader import ContentError
from bot.content.menu import menu
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="医考助手")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="start the bot (web, worker; locally also the fake WeChat API)"
    )
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    commands.add_parser("worker", help="run the background worker")
    chat = commands.add_parser("chat", help="talk to the bot in this terminal as a candidate")
    chat.add_argument("--openid", default="local-candidate")
    commands.add_parser("menu", help="create the custom menu from knowledge/menu.yaml")
    commands.add_parser("validate", help="check every data file in knowledge/, faq/ and rules/")
    fake = commands.add_parser("fake-wechat", help="run the fake WeChat API alone")
    fake.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)

    handlers: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "serve": _serve,
        "worker": _worker,
        "chat": _chat,
        "menu": _menu,
        "validate": _validate,
        "fake-wechat": _fake_wechat,
    }
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(message)s"
        )
        return handlers[args.command](args, settings)
    except (SettingsError, ContentError) as exc:
        print(exc, file=sys.stderr)
        return 2


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    load_all()
    print("all data files are valid")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import Services
    from bot.worker import make_worker

    make_worker(Services(settings)).work(with_scheduler=True)
    return 0


def _menu(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import Services

    Services(settings).wechat.create_menu(menu().to_wechat())
    print("menu created")
    return 0


def _fake_wechat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.fake_wechat import FakeWeChat

    fake = FakeWeChat(args.port).start()
    print(f"fake WeChat API at {fake.url}")
    _wait_forever()
    return 0


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat import run_chat
    from bot.local import Endpoints, LocalStack

    for noisy in ("werkzeug", "rq.worker", "bot.app"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # keep the terminal for the chat
    running = Endpoints.load(settings.data_dir) if settings.local_mode else None
    if running is not None and _answers(running.webhook_url):
        run_chat(running, args.openid)
        return 0
    print("（没有发现正在运行的本地服务，已在本进程内启动一个）", file=sys.stderr)
    with LocalStack(settings) as stack:
        run_chat(stack.endpoints, args.openid)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.fake_wechat import FakeWeChat
    from bot.local import Endpoints
    from bot.redis_server import ensure_embedded, stop_embedded
    from bot.services import Services

    load_all()
    env = dict(os.environ)
    if settings.redis_url is None:
        ensure_embedded(settings.data_dir)
    fake = None
    if settings.local_mode:
        fake = FakeWeChat().start()
        env["WECHAT_API_BASE_URL"] = fake.url
    children = [
        subprocess.Popen([sys.executable, "-m", "bot", "worker"], env=env),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"0.0.0.0:{args.port}",
                "bot:create_app()",
            ],
            env=env,
        ),
    ]
    webhook = f"http://127.0.0.1:{args.port}/wechat"
    if fake is not None:
        creds = Services(settings).credentials
        Endpoints(webhook_url=webhook, fake_api_url=fake.url, credentials=creds).save(
            settings.data_dir
        )
    _banner(settings, args.port, fake is not None)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)
        if settings.redis_url is None:
            stop_embedded(settings.data_dir)
    return 0


def _banner(settings: Settings, port: int, local: bool) -> None:
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
    print("\n".join(lines), flush=True)


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
        return True
    except requests.ConnectionError:
        return False


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
