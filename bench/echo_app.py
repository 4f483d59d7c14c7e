"""The baseline: a bare wechatpy echo bot doing WeChat's standard safe-mode (AES) dance only.

Served like the bot (same gunicorn.conf.py, workers and threads) so that the benchmark's ratio
measures what the bot adds on top of the unavoidable work: signature, AES, XML, HTTP.
Settings come from the same variables as the bot's: WECHAT_TOKEN, WECHAT_APPID and
WECHAT_ENCODING_AES_KEY.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature


def create_app() -> Flask:
    token = os.environ["WECHAT_TOKEN"]
    crypto = WeChatCrypto(token, os.environ["WECHAT_ENCODING_AES_KEY"], os.environ["WECHAT_APPID"])
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", content_type="text/plain")

    @app.post("/wechat")
    def wechat() -> Response:
        args = request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        try:
            check_signature(token, args.get("signature", ""), timestamp, nonce)
            xml = crypto.decrypt_message(
                request.get_data(), args.get("msg_signature", ""), timestamp, nonce
            )
        except (InvalidSignatureException, InvalidAppIdException):
            return Response("forbidden", status=403, content_type="text/plain")
        msg = parse_message(xml)
        reply = create_reply(msg.content if msg.type == "text" else "", msg)
        return Response(
            crypto.encrypt_message(reply.render(), nonce, timestamp),
            content_type="application/xml; charset=utf-8",
        )

    return app
