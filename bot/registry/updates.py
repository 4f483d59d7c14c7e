"""What an office sends to change review states, and what it gets back for each change."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.registry.models import Feedback, Moment, PaymentState, Registration, ReviewState, Status

MAX_UPDATES = 5000  # state changes one request may carry


class StateUpdate(BaseModel):
    """A change to one registration's review state, as an office sends it: the fields given
    change, the others keep their value (locking again clears the correction deadline)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    registration: Registration
    stage: str | None = Field(default=None, min_length=1, max_length=20)
    status: Status | None = None
    locked: bool | None = None
    correction_deadline: Moment | None = None
    feedback: tuple[Feedback, ...] | None = None
    payment: PaymentState | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> StateUpdate:
        if not self.model_fields_set - {"registration"}:
            raise ValueError("give at least one of status, locked, correction_deadline, …")
        for name in ("stage", "status", "locked", "feedback"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def applied_to(self, current: ReviewState) -> ReviewState:
        """The new state; raises ValidationError when the result is inconsistent."""
        given = self.model_fields_set - {"registration"}
        return current.changed({f: getattr(self, f) for f in given})


class StateUpdates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    updates: list[StateUpdate] = Field(min_length=1, max_length=MAX_UPDATES)

    @model_validator(mode="after")
    def _one_each(self) -> StateUpdates:
        # Two changes of one candidate in one request: which is meant to win is a guess.
        seen: set[str] = set()
        for i, u in enumerate(self.updates):
            if u.registration in seen:
                raise ValueError(f"updates.{i}: {u.registration} appears twice")
            seen.add(u.registration)
        return self


class UpdateResult(BaseModel):
    registration: str
    outcome: Literal["changed", "unchanged", "not_found", "invalid"]
    version: int | None = None
    reason: str | None = None
