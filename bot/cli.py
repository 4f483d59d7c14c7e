"""Command line: `python -m bot serve | worker | chat | menu | validate | token | gaps | import |
fake-wechat`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable

import requests

from bot.content.catalog import load_all
from bot.content.loader import ContentError
from bot.content.menu import menu
from bot.content.provinces import provinces
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
    token = commands.add_parser("token", help="issue an exam office's API token (shown once)")
    token.add_argument("--office", required=True, help="who holds it, e.g. 石家庄考点办公室")
    token.add_argument("--province", required=True, help="jiangxi | liaoning | hebei | sichuan")
    token.add_argument("--exam-point", help="limit it to one exam point (考点)")
    commands.add_parser(
        "tokens", help="list the exam offices' API tokens (by id, never the token)"
    )
    revoke = commands.add_parser("revoke", help="revoke an office's API token at once")
    revoke.add_argument("token", help="the token itself, or its id from `tokens`")
    gaps = commands.add_parser(
        "gaps", help="the questions the bot could not answer, most asked first"
    )
    gaps.add_argument("--province", help="jiangxi | liaoning | hebei | sichuan (default: unknown)")
    gaps.add_argument("--top", type=int, default=20)
    imports = commands.add_parser(
        "import", help="import candidates from a CSV or JSON file (re-importing updates)"
    )
    imports.add_argument("file", help="candidates.csv or candidates.json (UTF-8)")
    imports.add_argument("--province", required=True, help="jiangxi | liaoning | hebei | sichuan")
    imports.add_argument("--exam-point", help="only rows of this exam point (考点) are accepted")
    imports.add_argument("--office", default="命令行导入", help="recorded as who made the change")
    imports.add_argument(
        "--apply-valid", action="store_true", help="apply the valid rows even if some are bad"
    )
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
        "token": _token,
        "tokens": _tokens,
        "revoke": _revoke,
        "gaps": _gaps,
        "import": _import,
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


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from bot.offices import UnknownProvince, issue_token
    from bot.services import Services

    try:
        token = issue_token(Services(settings).store, args.office, args.province, args.exam_point)
    except UnknownProvince:
        print(f"unknown province {args.province!r}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _tokens(args: argparse.Namespace, settings: Settings) -> int:
    from bot.offices import listed
    from bot.services import Services

    for token_id, o in listed(Services(settings).store):
        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(o.created_at))
        print(f"{token_id}  {made}  {o.province:<9} {o.exam_point or '(全考区)'}  {o.office}")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    from bot.offices import revoke
    from bot.services import Services

    office = revoke(Services(settings).store, args.token)
    if office is None:
        print("no single token matches (give the token, or a 12-character id)", file=sys.stderr)
        return 1
    print(f"revoked: {office.office} ({office.province})")
    return 0


def _gaps(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import Services

    for gap in Services(settings).store.unanswered(args.province, args.top):
        asked = time.strftime("%Y-%m-%d %H:%M", time.localtime(gap.last_asked))
        print(f"{gap.count:6d}  {asked}  {gap.question}")
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.registry.imports import ImportFileError, read_file
    from bot.services import Services
    from bot.store import OfficeToken

    if provinces().get(args.province) is None:
        print(f"unknown province {args.province!r}", file=sys.stderr)
        return 2
    path = Path(args.file)
    try:
        rows = read_file(path.name, path.read_bytes())
    except (OSError, ImportFileError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    office = OfficeToken(
        office=args.office, province=args.province, exam_point=args.exam_point, created_at=0
    )
    started = time.monotonic()
    report = Services(settings).registry.import_rows(rows, office, apply_valid=args.apply_valid)
    for p in report.problems:
        print(f"{path}:{p.line}: {p.registration or '-'}: {p.field}: {p.reason}", file=sys.stderr)
    if not report.applied:
        print(
            f"{len(report.problems)} bad row(s): nothing imported "
            "(fix them, or pass --apply-valid to import the valid rows)",
            file=sys.stderr,
        )
        return 1
    print(
        f"{len(rows)} rows in {time.monotonic() - started:.1f}s: {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.problems)} skipped"
    )
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
    from bot.serve import serve

    return serve(settings, args.port)


def _answers(webhook_url: str) -> bool:
    try:
        return requests.get(webhook_url.replace("/wechat", "/healthz"), timeout=2).ok
    except requests.RequestException:
        return False


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
