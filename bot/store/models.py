"""What the store keeps, as typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field


class FlowState(BaseModel):
    """Where a user stands in a multi-step conversation (e.g. the materials checklist)."""

    name: str
    step: str
    answers: dict[str, str] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)


class Pending(BaseModel):
    """A numbered question the bot asked and awaits a number for."""

    kind: Literal["faq_choice", "province_for_faq"]
    options: list[str]  # FAQ entry ids, or province ids
    entry: str | None = None  # the FAQ entry waiting on the province
    asked_at: float


class Profile(BaseModel):
    """What the bot remembers of one user between messages."""

    province: str | None = None
    facts: dict[str, str] = Field(default_factory=dict)
    flow: FlowState | None = None
    checklist_done: list[str] = Field(default_factory=list)
    handoff_until: float | None = None
    # Until then the next photo is checked as the 2-inch registration photo (30K rule).
    registration_photo_until: float | None = None
    pending: Pending | None = None
    # WeChat allows customer-service messages only within 48 hours of the user's last message.
    last_message_at: float | None = None


class OfficeToken(BaseModel):
    """Who holds an API token, and which candidates it may see: a province, or one exam point."""

    office: str
    province: str
    exam_point: str | None = None
    created_at: float


@dataclass(frozen=True)
class Gap:
    """A question the bot could not answer, how often, and when last asked."""

    question: str
    count: int
    last_asked: float


@dataclass(frozen=True)
class Turn:
    """How the handling of one message begins.

    ours          claimed, counted and locked: `profile` is the user's state
    duplicate     WeChat's retry of a message already claimed: `reply` once there is one
    rate_limited  claimed, but over the user's limit this minute (`count`)
    busy          claimed, but another message of this user holds the lock
    """

    outcome: Literal["ours", "duplicate", "rate_limited", "busy"]
    token: str
    count: int = 0
    reply: str | None = None
    profile: Profile | None = None
