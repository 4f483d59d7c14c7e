"""The exam offices' admin API under /api/: JSON, bearer tokens scoped to a province."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from bot.offices import authenticate
from bot.services import Services

PUBLIC = {"/api/openapi.json"}


class GapsQuery(BaseModel):
    top: int = Field(default=20, ge=1, le=500)


def register_api(app: Flask, services: Services) -> None:
    """Mounts the API; every path under /api/ but the OpenAPI document needs a token."""

    # On the app, not the blueprint: a blueprint's hook skips paths it has no route for, and
    # even a 404 must not answer a caller without a token.
    @app.before_request
    def require_token() -> Response | None:
        if not request.path.startswith("/api/") or request.path in PUBLIC:
            return None
        office = authenticate(services.store, request.headers.get("Authorization"))
        if office is None:
            return _error(
                401, "unauthorized", "a valid 'Authorization: Bearer <token>' is required"
            )
        g.office = office
        return None

    app.register_blueprint(_routes(services))


def _routes(services: Services) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(OPENAPI)

    @bp.get("/gaps")
    def gaps() -> Response:
        """The questions the bot could not answer for this office's province, most asked first."""
        try:
            query = GapsQuery.model_validate(request.args.to_dict())
        except ValidationError as exc:
            return _error(422, "invalid_request", _first_problem(exc))
        found = services.store.unanswered(g.office.province, query.top)
        return jsonify(
            province=g.office.province,
            gaps=[
                {"question": x.question, "count": x.count, "last_asked": x.last_asked}
                for x in found
            ],
        )

    return bp


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "医考助手 exam-office API", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "Gap": {
                "type": "object",
                "required": ["question", "count", "last_asked"],
                "properties": {
                    "question": {"type": "string"},
                    "count": {"type": "integer"},
                    "last_asked": {"type": "number", "description": "Unix time"},
                },
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/gaps": {
            "get": {
                "summary": "Questions the bot could not answer for the token's province",
                "parameters": [
                    {
                        "name": "top",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 20},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "most asked first",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "province": {"type": "string"},
                                        "gaps": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Gap"},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "401": {
                        "description": "no valid token",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                    "422": {
                        "description": "invalid query",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1"}},
            }
        },
    },
}
