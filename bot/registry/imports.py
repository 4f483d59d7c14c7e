"""Candidate lists as exam offices export them (CSV or JSON), read row by row.

Each row keeps its line number (the CSV line, or the JSON item's position from 1) so a bad
row is reported where the office can find it. Column names may be the English field names or
the Chinese headings offices' spreadsheets use.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.registry.models import Feedback, Moment, PaymentState, Registration, ReviewState, Status

HEADINGS = {
    "报名号": "registration",
    "姓名": "name",
    "证件号码": "id_number",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "考区": "province",
    "省份": "province",
    "考点": "exam_point",
    "类别": "category",
    "报考类别": "category",
    "手机号": "phone",
    "手机号码": "phone",
    "审核状态": "status",
    "锁定": "locked",
    "修改截止": "correction_deadline",
    "缴费状态": "payment",
}
MAX_ROWS = 200_000
STATE_FIELDS = frozenset({"status", "locked", "correction_deadline", "payment", "feedback"})


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not CSV/JSON, no header, too many rows)."""


@dataclass(frozen=True)
class RawRow:
    line: int
    fields: dict[str, Any]


class CandidateRow(BaseModel):
    """One candidate as an office lists them; the state columns are optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    registration: Registration
    name: str = Field(min_length=1, max_length=30)
    id_number: str = Field(pattern=r"^[0-9A-Za-z]{8,20}$")
    province: str = Field(min_length=2)
    exam_point: str = Field(min_length=1, max_length=40)
    category: str = Field(min_length=2, max_length=30)
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    status: Status = "填报"
    locked: bool = True
    correction_deadline: Moment | None = None
    payment: PaymentState | None = None
    feedback: tuple[Feedback, ...] = ()

    @model_validator(mode="after")
    def _state_consistent(self) -> CandidateRow:
        # The same rules as the state itself, so a bad row is reported with its line.
        self.state_over(ReviewState())
        return self

    def state_over(self, current: ReviewState) -> ReviewState:
        """The row's state columns over `current`: a column the file does not have (or leaves
        blank) keeps what the candidate has, so re-importing a roster resets nothing."""
        given = self.model_fields_set & STATE_FIELDS
        return current.changed({f: getattr(self, f) for f in given})

    @field_validator("phone", "correction_deadline", "payment", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("locked", mode="before")
    @classmethod
    def _lock_words(cls, value: object) -> object:
        # Spreadsheets say it the national system's way.
        words = {"已锁定": True, "未锁定": False, "": True}
        return words.get(value.strip(), value) if isinstance(value, str) else value


def read_csv(text: str) -> list[RawRow]:
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a BOM
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ImportFileError("CSV 文件没有表头")
    rows: list[RawRow] = []
    for record in reader:
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行")
        fields: dict[str, Any] = {
            HEADINGS.get(k.strip(), k.strip()): v
            for k, v in record.items()
            if k is not None and (v or "").strip()
        }
        if None in record:
            fields["_extra"] = record[None]  # more cells than headings: reported as a bad row
        rows.append(RawRow(reader.line_num, fields))
    return rows


def read_json(payload: Any) -> list[RawRow]:
    """A list of candidates, or {"candidates": [...]}."""
    items = payload.get("candidates") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise ImportFileError('JSON 应为候选人列表，或 {"candidates": [...]}')
    if len(items) > MAX_ROWS:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行")
    return [
        RawRow(i, {HEADINGS.get(str(k), str(k)): v for k, v in item.items()})
        if isinstance(item, dict)
        else RawRow(i, {"_item": item})  # not an object: reported as a bad row
        for i, item in enumerate(items, start=1)
    ]


def read_file(name: str, data: bytes) -> list[RawRow]:
    """A file from the CLI: .json or .csv (UTF-8, with or without Excel's BOM)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFileError("文件须为 UTF-8 编码（Excel 另存为“CSV UTF-8”）") from exc
    if name.lower().endswith(".json"):
        try:
            return read_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"JSON 无法解析：第 {exc.lineno} 行") from exc
    return read_csv(text)


def problems_of(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) for each problem of a row."""
    found = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        reason = "多余的列" if err["type"] == "extra_forbidden" else err["msg"]
        found.append((where, reason))
    return found


@dataclass(frozen=True)
class RowProblem:
    """Why one row was not applied, by its line in the office's file."""

    line: int
    registration: str | None
    field: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: counts, and every row's problem (nothing applied unless asked)."""

    applied: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
