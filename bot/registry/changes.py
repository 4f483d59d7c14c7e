"""What a change to a candidate writes beside its record, inside the same transaction batch.

Offices change states and candidates change bindings, and either change carries the same
companions: a history entry of who made it, the push that tells the candidate and the reminder
before a correction deadline; a binding that ends also takes its openid off the pushes queued
for it. They live here so that the offices' registry (`service.py`) and the candidates'
bindings (`binding.py`) write them the same way.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from rq import Queue, Retry

from bot.registry.models import Candidate, Change, ChangeKind, Delivery
from bot.store.registry import Batch

PUSH_JOB = "bot.jobs.push_review"
REMIND_JOB = "bot.jobs.remind"


@dataclass(frozen=True)
class PushPolicy:
    """How pushes are queued: retries with these waits, reminders this long before deadlines."""

    backoff_seconds: tuple[int, ...] = (10, 60, 300, 1800)
    job_timeout_seconds: int = 60
    reminder_lead_seconds: float = 6 * 3600


class PushQueue:
    """Queues push and reminder jobs on the batch's pipeline, so they commit with the change."""

    def __init__(self, queue: Queue, policy: PushPolicy) -> None:
        self.queue = queue
        self.policy = policy

    def push(self, batch: Batch, candidate: Candidate, key: str, now: float) -> None:
        """A delivery of the candidate's current state, and the job that sends it."""
        assert candidate.openid is not None
        batch.queue_delivery(
            candidate.registration,
            Delivery(
                key=key,
                version=candidate.version,
                openid=candidate.openid,
                state=candidate.state,
                changed_at=candidate.changed_at,
                queued_at=now,
                updated_at=now,
            ),
        )
        backoff = list(self.policy.backoff_seconds)
        self.queue.enqueue(
            PUSH_JOB,
            candidate.registration,
            key,
            job_id=f"push-{candidate.registration}-{key}",
            job_timeout=self.policy.job_timeout_seconds,
            retry=Retry(max=len(backoff), interval=backoff) if backoff else None,
            result_ttl=0,  # the delivery record is the result; RQ's copy would only cost memory
            pipeline=batch.pipeline,
        )

    def schedule_reminder(self, batch: Batch, candidate: Candidate, now: float) -> None:
        """Unlocked with a deadline: remind before it, unless the state changes first."""
        deadline = candidate.state.correction_deadline
        if candidate.state.locked or deadline is None:
            return
        due = deadline.timestamp() - self.policy.reminder_lead_seconds
        if due <= now:
            return  # the deadline is too close: the push just sent is the reminder
        self.queue.enqueue_at(
            dt.datetime.fromtimestamp(due, tz=dt.UTC),
            REMIND_JOB,
            candidate.registration,
            candidate.version,
            job_id=f"remind-{candidate.registration}-v{candidate.version}",
            pipeline=batch.pipeline,
        )


def set_binding(
    batch: Batch, candidate: Candidate, openid: str | None, by: str, kind: ChangeKind
) -> Candidate:
    """Binds the candidate to `openid`, or unbinds it (None), with a history entry of who did."""
    changed = candidate.model_copy(
        update={
            "openid": openid,
            "binding_active": openid is not None,
            "bound_at": time.time() if openid else None,
        }
    )
    batch.save(changed)
    batch.record(candidate.registration, history_entry(changed, by, kind))
    if openid is None:
        batch.forget_recipient(candidate.registration)
    return changed


def history_entry(candidate: Candidate, by: str, kind: ChangeKind) -> Change:
    """An entry for a change that leaves the review state as it was (its version's state)."""
    return Change(
        version=candidate.version, state=candidate.state, by=by, at=time.time(), kind=kind
    )
