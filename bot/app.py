"""The app factory: settings, services, the conversation core and the webhook, wired once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.api import register_api
from bot.content.catalog import load_all
from bot.content.provinces import provinces
from bot.conversation import Conversation, Route
from bot.router import ROUTES, words_of
from bot.services import Services
from bot.settings import Settings, load_settings
from bot.webhook import webhook_blueprint

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    routes: Sequence[Route] = ROUTES,
) -> Flask:
    """Builds the web app; a bad setting or data file stops the start with a message naming it."""
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    load_all()
    services = services or Services(settings)
    services.store.adopt_old_gaps([*(p.id for p in provinces().provinces), None])
    if settings.local_mode:
        log.warning(
            "local mode: development credentials, WeChat API at %s", settings.wechat_api_base_url
        )

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["yikao"] = services
    conversation = Conversation(services, routes, words_of)
    app.register_blueprint(webhook_blueprint(conversation, services.envelope))
    register_api(app, services)
    _register_health(app, services)
    _register_errors(app)
    return app


def _register_health(app: Flask, services: Services) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        services.redis.ping()
        return Response("ok", content_type="text/plain")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response | HTTPException:
        """The last tier: HTTP errors pass through; anything else is logged, never shown."""
        api = request.path.startswith("/api/")
        if isinstance(exc, HTTPException):
            if not api:
                return exc
            response = jsonify(
                error={"code": exc.name.lower().replace(" ", "_"), "message": exc.description}
            )
            response.status_code = exc.code or 500
            return response
        log.exception("unhandled error")
        if api:
            response = jsonify(error={"code": "internal", "message": "internal error, logged"})
            response.status_code = 500
            return response
        # On a 5xx WeChat shows "该公众号暂时无法提供服务"; 'success' keeps the account calm.
        return Response("success", content_type="text/plain")
