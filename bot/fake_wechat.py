"""A local fake of the WeChat API over real HTTP: the one thing we cannot reach, so the one fake.

It issues access tokens (and counts them), accepts customer-service, template and mass sends,
media upload and download and menu creation, records every call, and can be told to answer the
next calls with an error code. Tests, local mode and the benchmarks use it. Control endpoints
live under /_fake/.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

CLIENT_MSG_ID_SECONDS = 600

ERRMSG = {
    40001: "invalid credential, access_token is invalid or not latest",
    40014: "invalid access_token",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    45047: "out of response count limit",
    45065: "clientmsgid exist",
    40007: "invalid media_id",
}


@dataclass(frozen=True)
class Failure:
    """A failure scheduled for the next call of `api` (any API when None)."""

    api: str | None
    errcode: int = 0
    http: int | None = None  # an HTTP status instead of WeChat's JSON answer


@dataclass
class FakeState:
    """What the fake has seen and will do; guarded by one lock (the server is threaded)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    # (touser, client_msg_id) → (msgid, when): WeChat sends one message per pair in 10 minutes.
    template_ids: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def next_failure(self, path: str) -> Failure | None:
        for i, failure in enumerate(self.failures):
            if failure.api is None or failure.api == path:
                del self.failures[i]
                return failure
        return None


def create_fake_app(state: FakeState | None = None) -> Flask:
    state = state or FakeState()
    app = Flask("fake_wechat")
    app.extensions["fake_state"] = state
    _token_endpoint(app, state)
    _send_endpoints(app, state)
    _media_endpoints(app, state)
    _control_endpoints(app, state)
    return app


def _error(code: int) -> Response:
    return jsonify(errcode=code, errmsg=ERRMSG.get(code, "fake error"))


def _ok(response: Response) -> bool:
    return response.status_code == 200 and (response.get_json() or {}).get("errcode") == 0


def _failed(failure: Failure) -> Response:
    if failure.http is not None:  # a gateway error: no JSON, nothing sent
        return Response("<html>Bad Gateway</html>", status=failure.http, mimetype="text/html")
    return _error(failure.errcode)


def _answer(state: FakeState, name: str, result: dict[str, Any] | None = None) -> Response:
    """Records the call, checks its token, applies a scheduled failure, else answers ok."""
    with state.lock:
        call: dict[str, Any] = {"api": name, "at": time.time(), "args": dict(request.args)}
        # wechatpy posts JSON without a JSON content type, as WeChat tolerates.
        if (body := request.get_json(force=True, silent=True)) is not None:
            call["body"] = body
        state.calls.append(call)
        failure = None
        if request.args.get("access_token") not in state.tokens:
            failure = Failure(None, errcode=40001)
        else:
            failure = state.next_failure(name)
        call["errcode"] = 0 if failure is None else failure.errcode
        if failure is not None and failure.http is not None:
            call.update(errcode=None, http=failure.http)  # no answer from WeChat itself
    if failure is not None:
        return _failed(failure)
    return jsonify(errcode=0, errmsg="ok", **(result or {}))


def _token_endpoint(app: Flask, state: FakeState) -> None:
    @app.get("/cgi-bin/token")
    def token() -> Response:
        with state.lock:
            state.token_requests += 1
            if (failure := state.next_failure("token")) is not None:
                return _failed(failure)
            issued = "fake-token-" + secrets.token_hex(8)
            state.tokens.add(issued)
        return jsonify(access_token=issued, expires_in=7200)


def _send_endpoints(app: Flask, state: FakeState) -> None:
    @app.post("/cgi-bin/message/custom/send")
    def custom_send() -> Response:
        return _answer(state, "custom_send")

    @app.post("/cgi-bin/message/template/send")
    def template_send() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        pair = (str(body.get("touser")), str(body.get("client_msg_id") or ""))
        msgid = next(state.ids)
        with state.lock:
            earlier = state.template_ids.get(pair) if pair[1] else None
            if earlier is not None and time.time() - earlier[1] < CLIENT_MSG_ID_SECONDS:
                # WeChat's 防重入: the same client_msg_id again sends nothing.
                call = {"api": "template_send", "at": time.time(), "body": body}
                state.calls.append({**call, "errcode": 0, "deduplicated": True})
                return jsonify(errcode=0, errmsg="ok", msgid=earlier[0])
            if pair[1]:  # reserved now, so a concurrent twin is deduplicated too
                state.template_ids[pair] = (msgid, time.time())
        response = _answer(state, "template_send", {"msgid": msgid})
        if not _ok(response) and pair[1]:
            with state.lock:
                state.template_ids.pop(pair, None)  # refused: nothing was sent
        return response

    @app.post("/cgi-bin/message/mass/sendall")
    def mass_send() -> Response:
        return _answer(state, "mass_send", {"msg_id": next(state.ids)})

    @app.post("/cgi-bin/menu/create")
    def menu_create() -> Response:
        return _answer(state, "menu_create")


def _media_endpoints(app: Flask, state: FakeState) -> None:
    @app.post("/cgi-bin/media/upload")
    def media_upload() -> Response:
        upload = request.files.get("media")
        if upload is None:
            return _error(41005)
        media_id = "fake-media-" + secrets.token_hex(8)
        kind = request.args.get("type", "image")
        response = _answer(
            state,
            "media_upload",
            {"type": kind, "media_id": media_id, "created_at": int(time.time())},
        )
        if _ok(response):
            with state.lock:
                state.media[media_id] = (upload.read(), upload.mimetype or "image/jpeg")
        return response

    @app.get("/cgi-bin/media/get")
    def media_get() -> Response:
        checked = _answer(state, "media_get")
        if not _ok(checked):
            return checked
        found = state.media.get(request.args.get("media_id", ""))
        if found is None:
            return _error(40007)
        return Response(found[0], content_type=found[1])


def _control_endpoints(app: Flask, state: FakeState) -> None:
    @app.get("/_fake/calls")
    def calls() -> Response:
        """Recorded calls, optionally only those to one user and after an index."""
        since = int(request.args.get("since", 0))
        touser = request.args.get("touser")
        with state.lock:
            picked = [
                {"index": i, **c}
                for i, c in enumerate(state.calls)
                if i >= since and (touser is None or c.get("body", {}).get("touser") == touser)
            ]
            return jsonify(
                calls=picked, token_requests=state.token_requests, next=len(state.calls)
            )

    @app.post("/_fake/fail")
    def fail() -> Response:
        """Schedules failures: {"errcode": 45009, "times": 2, "api": "custom_send"}, or an
        HTTP error instead of an answer: {"http": 502, "api": "template_send"}."""
        spec = request.get_json()
        failure = Failure(
            spec.get("api"),
            errcode=int(spec.get("errcode", 0)),
            http=int(spec["http"]) if "http" in spec else None,
        )
        with state.lock:
            state.failures += [failure] * int(spec.get("times", 1))
        return jsonify(ok=True)

    @app.post("/_fake/media")
    def put_media() -> Response:
        """Stores bytes as if a user had sent them, returning the MediaId WeChat would give."""
        media_id = "user-media-" + secrets.token_hex(8)
        with state.lock:
            state.media[media_id] = (request.get_data(), request.content_type or "image/jpeg")
        return jsonify(media_id=media_id)

    @app.post("/_fake/expire-tokens")
    def expire_tokens() -> Response:
        with state.lock:
            state.tokens.clear()
        return jsonify(ok=True)


class FakeWeChat:
    """The fake served on 127.0.0.1 from a background thread; `url` is its base URL."""

    def __init__(self, port: int = 0) -> None:
        self.state = FakeState()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, create_fake_app(self.state), threaded=True
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> FakeWeChat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
