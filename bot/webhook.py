"""The /wechat endpoint: check the signature, decrypt, parse, hand to the core, render."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from bot.conversation import Conversation
from bot.envelope import Envelope, Refused
from bot.messages import MalformedMessage, parse_inbound, render

log = logging.getLogger(__name__)


def webhook_blueprint(conversation: Conversation, envelope: Envelope) -> Blueprint:
    bp = Blueprint("wechat", __name__)

    @bp.get("/wechat")
    def verify_url() -> Response:
        try:
            return _plain(envelope.check_url(request.args))
        except Refused as exc:
            log.warning("URL verification refused: %s", exc)
            return _plain("forbidden", 403)

    @bp.post("/wechat")
    def receive() -> Response:
        try:
            opened = envelope.open(request.args, request.get_data(cache=False))
            msg = parse_inbound(opened.fields)
        except Refused as exc:
            log.warning("message refused: %s", exc)
            return _plain("forbidden", 403)
        except MalformedMessage as exc:
            log.warning("malformed message: %s", exc)
            return _plain("bad request", 400)
        xml = render(conversation.handle(msg), msg)
        if not xml:
            return _plain("success")
        sealed = envelope.seal(xml, opened.aes_key, request.args.get("nonce", ""))
        return Response(sealed, content_type="application/xml; charset=utf-8")

    return bp


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")
