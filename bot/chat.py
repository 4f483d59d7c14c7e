"""Local chat: talk to the bot in a terminal as a candidate, through the signed, encrypted webhook.

This plays WeChat's part exactly as the platform does (sign, encrypt, POST, verify and decrypt the
reply), and shows what the fake WeChat API was asked to push to this user.
"""

from __future__ import annotations

import itertools
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

import requests

from bot.envelope import decrypt, encrypt, signature
from bot.local import Endpoints
from bot.messages import cdata, parse_xml

ACCOUNT = "gh_local_account"


class WeChatSide:
    """Sends a user's messages as WeChat does and reads the replies and the pushes."""

    def __init__(self, endpoints: Endpoints, openid: str) -> None:
        self.endpoints = endpoints
        self.openid = openid
        self.http = requests.Session()
        self._ids: Iterator[int] = itertools.count(int(time.time() * 1000))
        self._seen_calls = 0

    def say(self, text: str) -> str:
        """Sends a text message; returns the reply ('' when the bot answers later or not)."""
        fields = {"MsgType": "text", "Content": text, "MsgId": str(next(self._ids))}
        return self.post(fields)

    def event(self, event: str, key: str = "") -> str:
        return self.post({"MsgType": "event", "Event": event, "EventKey": key})

    def post(self, fields: dict[str, str]) -> str:
        creds = self.endpoints.credentials
        inner = self._xml(
            {
                "ToUserName": ACCOUNT,
                "FromUserName": self.openid,
                "CreateTime": str(int(time.time())),
                **fields,
            }
        )
        encrypted = encrypt(inner, creds.aes_key, creds.appid)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        query = {
            "signature": signature(creds.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
            "encrypt_type": "aes",
            "msg_signature": signature(creds.token, timestamp, nonce, encrypted),
        }
        body = self._xml({"ToUserName": ACCOUNT, "Encrypt": encrypted})
        response = self.http.post(
            self.endpoints.webhook_url, params=query, data=body.encode(), timeout=10
        )
        response.raise_for_status()
        return self._open_reply(response.content)

    def pushes(self) -> list[str]:
        """Texts pushed to this user through the WeChat API since the last call."""
        found = self.http.get(
            f"{self.endpoints.fake_api_url}/_fake/calls",
            params={"touser": self.openid, "since": str(self._seen_calls)},
            timeout=5,
        ).json()
        self._seen_calls = found["next"]
        return [_push_text(c["body"]) for c in found["calls"] if c.get("errcode") == 0]

    def _open_reply(self, raw: bytes) -> str:
        if raw in (b"", b"success"):
            return ""
        outer = parse_xml(raw)
        creds = self.endpoints.credentials
        expected = signature(creds.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        if outer.get("MsgSignature") != expected:
            raise ValueError("the reply's signature does not hold")
        reply = parse_xml(decrypt(outer["Encrypt"], creds.aes_key, creds.appid).encode())
        if reply.get("MsgType") == "transfer_customer_service":
            return "（已转接人工客服，工作人员将在微信中回复您）"
        return reply.get("Content") or f"[{reply.get('MsgType')}]"

    @staticmethod
    def _xml(fields: dict[str, str]) -> str:
        return "<xml>" + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"


def _push_text(body: dict[str, object]) -> str:
    text = body.get("text")
    if isinstance(text, dict):
        return str(text.get("content", ""))
    return f"[{body.get('msgtype') or body.get('template_id') or 'push'}]"


def run_chat(
    endpoints: Endpoints, openid: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    """Reads lines from stdin as the user's messages and prints the bot's replies and pushes."""
    side = WeChatSide(endpoints, openid)
    stop = threading.Event()
    printing = threading.Lock()

    def show(prefix: str, text: str) -> None:
        indent = " " * (len(prefix) * 2)  # the prefixes are full-width characters
        with printing:
            for i, line in enumerate(text.splitlines() or [""]):
                stdout.write(f"{prefix if i == 0 else indent}{line}\n")
            stdout.flush()

    def watch_pushes() -> None:
        while not stop.wait(0.5):
            for text in side.pushes():
                show("【推送】", text)

    show(
        "",
        f"医考助手 本地聊天（{openid}）：输入消息后回车；输入 /quit 退出，/subscribe 模拟关注。",
    )
    watcher = threading.Thread(target=watch_pushes, daemon=True)
    watcher.start()
    try:
        for line in stdin:
            said = line.strip()
            if said == "/quit":
                break
            if said in ("/subscribe", "/unsubscribe"):
                reply = side.event(said[1:])
            elif said:
                reply = side.say(said)
            else:
                continue
            show("医考助手：", reply or "（稍后回复）")
    finally:
        stop.set()
        watcher.join(timeout=2)
        for text in side.pushes():
            show("【推送】", text)
