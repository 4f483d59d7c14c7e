"""The exam offices' admin API under /api/: JSON, bearer tokens scoped to a province (and
optionally an exam point). A candidate outside the token's scope answers 404, exactly like
one that does not exist. (Only an import of a 报名号 another office holds is told so: the row
cannot be taken over, and the office must learn why.)"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from bot.offices import authenticate
from bot.openapi import openapi_document
from bot.registry.imports import ImportFileError, RawRow, read_csv, read_json
from bot.registry.models import Candidate
from bot.registry.updates import StateUpdate, StateUpdates
from bot.services import Services

PUBLIC = {"/api/openapi.json"}


class GapsQuery(BaseModel):
    top: int = Field(default=20, ge=1, le=500)


class ImportQuery(BaseModel):
    apply_valid: bool = False


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
    registry = services.registry

    @bp.errorhandler(ValidationError)
    def invalid(exc: ValidationError) -> Response:
        return _error(422, "invalid_request", _problems(exc))

    @bp.errorhandler(NotJson)
    def not_json(exc: NotJson) -> Response:
        return _error(400, "not_json", "the body must be a JSON object (application/json)")

    @bp.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(openapi_document())

    @bp.get("/gaps")
    def gaps() -> Response:
        """The questions the bot could not answer for this office's province, most asked first."""
        query = GapsQuery.model_validate(request.args.to_dict())
        found = services.store.unanswered(g.office.province, query.top)
        return jsonify(
            province=g.office.province,
            gaps=[
                {"question": x.question, "count": x.count, "last_asked": x.last_asked}
                for x in found
            ],
        )

    @bp.post("/candidates/import")
    def import_candidates() -> Response:
        """CSV (text/csv) or JSON; with errors nothing is applied unless ?apply_valid=true."""
        query = ImportQuery.model_validate(request.args.to_dict())
        try:
            rows = _rows_of_request()
        except ImportFileError as exc:
            return _error(400, "unreadable_file", str(exc))
        report = registry.import_rows(rows, g.office, apply_valid=query.apply_valid)
        response = jsonify(dataclasses.asdict(report))
        response.status_code = 200 if report.applied else 422
        return response

    @bp.post("/candidates/states")
    def update_states() -> Response:
        """Many state changes at once; each answers changed, unchanged or not_found."""
        body = StateUpdates.model_validate(_json_body())
        results = registry.update_states(body.updates, g.office)
        return jsonify(results=[r.model_dump(exclude_none=True) for r in results])

    @bp.put("/candidates/<registration>/state")
    def update_state(registration: str) -> Response:
        update = StateUpdate.model_validate({**_json_body(), "registration": registration})
        (result,) = registry.update_states([update], g.office)
        if result.outcome == "not_found":
            return _not_found(registration)
        response = jsonify(result.model_dump(exclude_none=True))
        response.status_code = 422 if result.outcome == "invalid" else 200
        return response

    @bp.get("/candidates/<registration>")
    def read_candidate(registration: str) -> Response:
        found = registry.read(registration, g.office)
        if found is None:
            return _not_found(registration)
        return jsonify(
            candidate=_candidate_view(found),
            history=[c.model_dump(mode="json") for c in registry.store.history(registration)],
            deliveries=_deliveries(services, registration),
        )

    @bp.get("/candidates/<registration>/deliveries")
    def deliveries(registration: str) -> Response:
        if registry.read(registration, g.office) is None:
            return _not_found(registration)
        return jsonify(deliveries=_deliveries(services, registration))

    @bp.post("/candidates/<registration>/binding-code")
    def binding_code(registration: str) -> Response:
        """A one-time code the candidate sends after 「绑定」 instead of name and ID digits."""
        code = registry.issue_code(registration, g.office)
        if code is None:
            return _not_found(registration)
        return jsonify(registration=registration, code=code)

    @bp.delete("/candidates/<registration>/binding")
    def release(registration: str) -> Response:
        """Frees a registration from the WeChat account it is bound to."""
        if not registry.release(registration, g.office):
            return _not_found(registration)
        return jsonify(registration=registration, bound=False)

    return bp


def _rows_of_request() -> list[RawRow]:
    if (request.mimetype or "").endswith("csv"):
        try:
            return read_csv(request.get_data().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ImportFileError("CSV 须为 UTF-8 编码") from exc
    payload = request.get_json(silent=True)
    if payload is None:
        raise ImportFileError("请求体须为 JSON（application/json）或 CSV（text/csv）")
    return read_json(payload)


class NotJson(Exception):
    """The request body is not a JSON object."""


def _json_body() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise NotJson()
    return payload


def _candidate_view(c: Candidate) -> dict[str, Any]:
    """What an office may read back: masked identity, never the hashes."""
    return {
        "registration": c.registration,
        "name": c.name,
        "id_number": c.id_masked,
        "phone": c.phone_masked,
        "province": c.province,
        "exam_point": c.exam_point,
        "category": c.category,
        "state": c.state.model_dump(mode="json"),
        "version": c.version,
        "changed_at": c.changed_at,
        "changed_by": c.changed_by,
        "bound": c.openid is not None,
        "binding_active": c.binding_active,
    }


def _deliveries(services: Services, registration: str) -> list[dict[str, Any]]:
    return [
        d.model_dump(exclude={"openid", "lease_until"})
        for d in services.registry.store.deliveries(registration)
    ]


def _not_found(registration: str) -> Response:
    return _error(404, "not_found", f"no candidate {registration} in this office's scope")


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in exc.errors()[:10]
    )
