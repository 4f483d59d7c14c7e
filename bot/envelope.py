"""WeChat's envelope: signatures, the replay window, and AES safe mode with key rotation.

AES itself is wechatpy's (PrpCrypto); the signature checks are ours because wechatpy compares
signatures with ``!=``, which leaks timing, and parses the outer XML without refusing DTDs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException

from bot.messages import MalformedMessage, cdata, parse_xml


class Refused(Exception):
    """A request that is not from WeChat (bad signature, stale timestamp): answer 403."""


def signature(*parts: str) -> str:
    """WeChat's SHA-1 signature of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _require(expected: str | None, *parts: str) -> None:
    if not expected or not hmac.compare_digest(expected.encode(), signature(*parts).encode()):
        raise Refused("signature")


@cache
def _cipher(aes_key: str) -> PrpCrypto:
    """One cipher object per key: building it decodes the key and sets up AES each time."""
    return PrpCrypto(base64.b64decode(aes_key + "="))


def encrypt(xml: str, aes_key: str, appid: str) -> str:
    return str(_cipher(aes_key).encrypt(xml, appid).decode())


def decrypt(encrypted: str, aes_key: str, appid: str) -> str:
    """The plaintext, or ValueError when this key (or appid) does not fit."""
    try:
        return str(_cipher(aes_key).decrypt(encrypted, appid))
    except (InvalidAppIdException, IndexError, struct.error) as exc:
        raise ValueError("does not decrypt with this key") from exc


@dataclass(frozen=True)
class Opened:
    """A verified inbound message: its XML fields and the AES key that opened it (None: plain)."""

    fields: dict[str, str]
    aes_key: str | None


@dataclass(frozen=True)
class Envelope:
    token: str
    appid: str
    aes_keys: tuple[str, ...] = ()
    tolerance_seconds: int = 300

    def check_url(self, query: Mapping[str, str]) -> str:
        """URL verification (GET): the echostr when the signature holds."""
        self._check_time(query)
        _require(query.get("signature"), self.token, query["timestamp"], query.get("nonce", ""))
        return query.get("echostr", "")

    def open(self, query: Mapping[str, str], body: bytes) -> Opened:
        """Verifies and, in safe or compatible mode, decrypts an inbound message."""
        self._check_time(query)
        timestamp, nonce = query["timestamp"], query.get("nonce", "")
        outer = parse_xml(body)
        if query.get("encrypt_type", "raw") != "aes":
            # In safe or compatible mode WeChat always encrypts; a plaintext body would be
            # vouched for by a signature that does not cover it (and shows in access logs).
            if self.aes_keys:
                raise Refused("plaintext message while an EncodingAESKey is configured")
            _require(query.get("signature"), self.token, timestamp, nonce)
            return Opened(outer, None)
        encrypted = outer.get("Encrypt", "")
        _require(query.get("msg_signature"), self.token, timestamp, nonce, encrypted)
        for key in self.aes_keys:
            try:
                return Opened(parse_xml(decrypt(encrypted, key, self.appid).encode()), key)
            except ValueError:
                continue
        raise MalformedMessage("no configured EncodingAESKey opens this message")

    def seal(self, xml: str, aes_key: str | None, nonce: str) -> str:
        """The reply for WeChat: plain, or encrypted with the key that opened the message."""
        if aes_key is None:
            return xml
        timestamp = str(int(time.time()))
        encrypted = encrypt(xml, aes_key, self.appid)
        signed = signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{cdata(signed)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )

    def _check_time(self, query: Mapping[str, str]) -> None:
        try:
            sent = int(query.get("timestamp", ""))
        except ValueError:
            raise Refused("timestamp") from None
        if abs(time.time() - sent) > self.tolerance_seconds:
            raise Refused("timestamp outside the replay window")
