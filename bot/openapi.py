"""The OpenAPI document of the exam offices' API (/api/openapi.json), its schemas taken from
the same pydantic models that validate the requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bot.registry.imports import CandidateRow
from bot.registry.models import ReviewState
from bot.registry.updates import StateUpdates, UpdateResult


def _json(schema_ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "unreadable file",
        401: "no valid token",
        404: "no such candidate in the token's scope",
        422: "invalid request (the message names the field)",
    }
    return {
        str(s): {"description": words[s], **_json("#/components/schemas/Error")} for s in statuses
    }


def _registration_param() -> dict[str, Any]:
    return {"name": "registration", "in": "path", "required": True, "schema": {"type": "string"}}


IMPORT_DESCRIPTION = (
    "JSON: a list of CandidateRow or {candidates: [...]}; CSV with a header of the same names "
    "or the Chinese headings (报名号, 姓名, 证件号码, 考区, 考点, 类别, 手机号, 审核状态). "
    "With any bad row nothing is applied (422) unless apply_valid=true."
)


def openapi_document() -> dict[str, Any]:
    models: dict[str, type[BaseModel]] = {
        "CandidateRow": CandidateRow,
        "StateUpdates": StateUpdates,
        "ReviewState": ReviewState,
        "UpdateResult": UpdateResult,
    }
    schemas: dict[str, Any] = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }
    schemas["ImportReport"] = {
        "type": "object",
        "properties": {
            "applied": {"type": "boolean"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "line": {"type": "integer"},
                        "registration": {"type": ["string", "null"]},
                        "field": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    }
    ok = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
    reg = [_registration_param()]
    report = _json("#/components/schemas/ImportReport")
    result = _json("#/components/schemas/UpdateResult")
    paths: dict[str, Any] = {
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1"}},
            }
        },
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
                "responses": {"200": ok, **_errors(401, 422)},
            }
        },
        "/api/candidates/import": {
            "post": {
                "summary": "Import candidates (idempotent: a re-import updates)",
                "description": IMPORT_DESCRIPTION,
                "parameters": [
                    {"name": "apply_valid", "in": "query", "schema": {"type": "boolean"}}
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/CandidateRow"},
                            }
                        },
                        "text/csv": {"schema": {"type": "string"}},
                    }
                },
                "responses": {
                    "200": {
                        "description": "applied",
                        **report,
                    },
                    **_errors(400, 401),
                    "422": {
                        "description": "bad rows; nothing applied",
                        **report,
                    },
                },
            }
        },
        "/api/candidates/states": {
            "post": {
                "summary": "Change the review state of many candidates (each change is pushed)",
                "requestBody": _json("#/components/schemas/StateUpdates"),
                "responses": {"200": ok, **_errors(401, 422)},
            }
        },
        "/api/candidates/{registration}/state": {
            "put": {
                "summary": "Change one candidate's review state",
                "parameters": reg,
                "requestBody": _json("#/components/schemas/ReviewState"),
                "responses": {
                    "200": {
                        "description": "changed or unchanged",
                        **result,
                    },
                    **_errors(401, 404, 422),
                },
            }
        },
        **{
            f"/api/candidates/{{registration}}{tail}": {
                method: {
                    "summary": summary,
                    "parameters": reg,
                    "responses": {"200": ok, **_errors(401, 404)},
                }
            }
            for tail, method, summary in (
                ("", "get", "A candidate's state (ID and phone masked), history and deliveries"),
                ("/deliveries", "get", "The pushes of a candidate's changes and their outcome"),
                ("/binding-code", "post", "A one-time binding code for the candidate"),
                ("/binding", "delete", "Release the candidate's binding to a WeChat account"),
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "医考助手 exam-office API", "version": "2"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
