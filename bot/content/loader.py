"""Loads YAML data files into pydantic models, naming file, entry and field when one is broken."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ROOT = Path(__file__).resolve().parents[2]

M = TypeVar("M", bound=BaseModel)


class ContentError(Exception):
    """A data file that does not match its model; the message names file, entry and field."""


def load_model(path: Path, model: type[M]) -> M:
    """Parses one YAML file as `model`, or raises ContentError naming where it breaks."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{_rel(path)}: cannot be read as YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ContentError(_describe(path, raw, exc)) from exc


def load_dir(directory: Path, model: type[M]) -> dict[str, M]:
    """Loads every *.yaml below `directory` (sorted), keyed by the file's stem."""
    return {p.stem: load_model(p, model) for p in sorted(directory.glob("*.yaml"))}


def _describe(path: Path, raw: object, exc: ValidationError) -> str:
    lines = [f"{_rel(path)}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        loc = err["loc"]
        lines.append(f"  at {_entry_name(raw, loc)}{'.'.join(map(str, loc))}: {err['msg']}")
    return "\n".join(lines)


def _entry_name(raw: object, loc: tuple[int | str, ...]) -> str:
    """Names the entry by its `id` when the failing field sits inside a list of entries."""
    node = raw
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict) and "id" in node:
                return f"entry '{node['id']}' "
        else:
            break
    return ""


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
