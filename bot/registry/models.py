"""The candidate registry's records: what an office imports, what the national system shows.

States follow the national system (考生服务系统操作指南 附件3 问题10): two review levels, 考点
(city) then 考区 (province), and the states 填报 → 考点通过 → 审核通过, or 审核拒绝.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

BEIJING = ZoneInfo("Asia/Shanghai")


def _beijing_if_naive(moment: dt.datetime) -> dt.datetime:
    """Offices write "2022-02-10 18:00" meaning Beijing time, whatever the server's zone."""
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment


Moment = Annotated[dt.datetime, AfterValidator(_beijing_if_naive)]

Status = Literal["填报", "考点通过", "审核通过", "审核拒绝"]
PaymentState = Literal["待缴费", "已缴费"]
Level = Literal["考点", "考区"]

Registration = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{6,32}$")]


class Feedback(BaseModel):
    """One reviewer's note as the candidate sees it on the upload page."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=200)
    at: Moment
    level: Level | None = None


class ReviewState(BaseModel):
    """A candidate's review as the national system has it at one moment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = Field(default="报名资格审核", min_length=1, max_length=20)
    status: Status = "填报"
    # 已锁定 (True): the candidate cannot change the images; 未锁定: open for correction.
    locked: bool = True
    correction_deadline: Moment | None = None
    feedback: tuple[Feedback, ...] = ()
    # Only where the province collects the fee online (Hebei).
    payment: PaymentState | None = None

    @field_validator("feedback", mode="before")
    @classmethod
    def _lua_empty_list(cls, value: object) -> object:
        # Redis's Lua cjson writes an empty list back as {} (the delivery claim round-trips it).
        return () if value == {} else value

    @model_validator(mode="after")
    def _deadline_needs_unlock(self) -> ReviewState:
        if self.correction_deadline is not None and self.locked:
            raise ValueError("correction_deadline is only meaningful when locked is false")
        return self

    def changed(self, changes: dict[str, Any]) -> ReviewState:
        """This state with some fields changed, validated again as a whole."""
        if changes.get("locked") is True and "correction_deadline" not in changes:
            changes = {**changes, "correction_deadline": None}  # locked again: no deadline
        return ReviewState.model_validate({**self.model_dump(), **changes})

    @property
    def latest_feedback(self) -> Feedback | None:
        return max(self.feedback, key=lambda f: f.at) if self.feedback else None


class Candidate(BaseModel):
    """A registration as we keep it: ID and phone only as keyed hashes and masked forms."""

    registration: str
    name: str
    id_hash: str
    id_tail_hash: str  # the last six characters, which binding asks for
    id_masked: str
    phone_hash: str | None = None
    phone_masked: str | None = None
    province: str
    exam_point: str
    category: str
    state: ReviewState = ReviewState()
    version: int = 1  # bumped by every state change; a push is keyed by it
    changed_at: float
    changed_by: str
    openid: str | None = None
    binding_active: bool = False  # False after 43004/43101: the user cannot receive pushes
    bound_at: float | None = None


ChangeKind = Literal[
    "imported", "updated", "edited", "bound", "unbound", "released", "deactivated"
]


class Change(BaseModel):
    """One entry of a candidate's history: who set which state, when."""

    version: int
    state: ReviewState
    by: str
    at: float
    kind: ChangeKind


DeliveryStatus = Literal["queued", "sending", "retrying", "sent", "failed", "skipped"]


class Delivery(BaseModel):
    """A push of one state version (or its reminder) to the bound candidate."""

    key: str  # "v3" for version 3's push, "v3-reminder" for its reminder
    version: int
    # Who it goes to; None once that binding has ended (the record is the office's, the
    # openid the user's, and WeChat's rule is to forget the user when they leave).
    openid: str | None
    # The state as it was at this version: a retry that comes after later changes still tells
    # the candidate what this change was.
    state: ReviewState
    changed_at: float
    status: DeliveryStatus = "queued"
    channel: Literal["template", "customer_service"] | None = None
    attempts: int = 0
    errcode: int | None = None
    reason: str | None = None
    msgid: str | None = None
    first_attempt_at: float | None = None  # WeChat's duplicate guard counts from here
    # What WeChat's TEMPLATESENDJOBFINISH said: success, failed:user block, failed:system failed
    finished: str | None = None
    lease_until: float = 0.0
    queued_at: float
    updated_at: float
