"""Plays WeChat's side of the webhook for tests, written independently of wechatpy and of bot/.

It follows the platform's documentation of the envelope directly (SHA-1 over the sorted token,
timestamp, nonce [and ciphertext]; AES-256-CBC with the key's first 16 bytes as IV; PKCS#7 to 32
bytes; 16 random bytes, a 4-byte big-endian length, the XML and the appid), so a mistake shared
by wechatpy and the bot cannot hide behind a test that uses the same code.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_msg_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


class HttpClient(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...

    def get(self, url: str, **kwargs: Any) -> Any: ...


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def aes_encrypt(plain: str, aes_key: str, appid: str) -> str:
    key = base64.b64decode(aes_key + "=")
    body = plain.encode()
    data = os.urandom(16) + struct.pack(">I", len(body)) + body + appid.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def aes_decrypt(encrypted: str, aes_key: str, appid: str) -> str:
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    data = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    data = data[: -data[-1]]
    length = struct.unpack(">I", data[16:20])[0]
    if data[20 + length :].decode() != appid:
        raise AssertionError("reply encrypted for another appid")
    return data[20 : 20 + length].decode()


def xml_of(fields: dict[str, str]) -> str:
    def cdata(v: str) -> str:
        return "<![CDATA[" + v.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    return "<xml>" + "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"


def fields_of(xml: bytes | str) -> dict[str, str]:
    root = ET.fromstring(xml)
    out: dict[str, str] = {}
    for child in root:
        out[child.tag] = child.text or ""
        for grandchild in child:  # <Image><MediaId>…</MediaId></Image>
            out[f"{child.tag}.{grandchild.tag}"] = grandchild.text or ""
    return out


@dataclass
class Posted:
    """One exchange: what the webhook answered, decrypted and parsed when it was a message."""

    status: int
    body: bytes
    reply: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.reply.get("Content", "")


@dataclass
class WeChatSim:
    http: HttpClient
    token: str
    appid: str
    aes_key: str | None
    mode: str = "safe"  # safe | compat | plain
    path: str = "/wechat"
    account: str = "gh_test_account"

    def user(self, openid: str) -> SimUser:
        return SimUser(self, openid)

    def message(self, openid: str, **fields: str) -> dict[str, str]:
        base = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
        }
        return {**base, **fields}

    def post(
        self, fields: dict[str, str], *, timestamp: int | None = None, tamper: str | None = None
    ) -> Posted:
        """Posts a message as WeChat would; `tamper` breaks one thing on purpose."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = os.urandom(4).hex()
        inner = xml_of(fields)
        query = {
            "signature": sha1_signature(self.token, ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "openid": fields.get("FromUserName", ""),
        }
        body = inner
        if self.mode != "plain":
            assert self.aes_key
            encrypted = aes_encrypt(inner, self.aes_key, self.appid)
            outer = {"ToUserName": self.account, "Encrypt": encrypted}
            if self.mode == "compat":
                outer = {**fields, "Encrypt": encrypted}
            body = xml_of(outer)
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sha1_signature(self.token, ts, nonce, encrypted)
        if tamper == "signature":
            key = "msg_signature" if self.mode != "plain" else "signature"
            query[key] = sha1_signature("forged", ts, nonce)
        response = self.http.post(self.path, query_string=query, data=body.encode())
        return self._read(response, nonce)

    def _read(self, response: Any, nonce: str) -> Posted:
        raw = response.data if hasattr(response, "data") else response.content
        status = response.status_code
        if status != 200 or raw in (b"", b"success"):
            return Posted(status, raw)
        outer = fields_of(raw)
        if "Encrypt" not in outer:
            return Posted(status, raw, outer)
        expected = sha1_signature(self.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        assert outer["MsgSignature"] == expected, "reply signature does not verify"
        assert self.aes_key
        return Posted(
            status, raw, fields_of(aes_decrypt(outer["Encrypt"], self.aes_key, self.appid))
        )


@dataclass
class SimUser:
    """A candidate in a chat script: `user.says("帮助")` returns the text the bot replied."""

    sim: WeChatSim
    openid: str

    def send(self, **fields: str) -> Posted:
        return self.sim.post(self.sim.message(self.openid, **fields))

    def says(self, text: str) -> str:
        posted = self.send(MsgType="text", Content=text, MsgId=str(next(_msg_ids)))
        assert posted.status == 200, posted
        return posted.text

    def text_message(self, text: str) -> dict[str, str]:
        return self.sim.message(
            self.openid, MsgType="text", Content=text, MsgId=str(next(_msg_ids))
        )

    def event(self, event: str, **extra: str) -> Posted:
        return self.send(MsgType="event", Event=event, **extra)
