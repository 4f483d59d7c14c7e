"""The candidates' side of the registry: tying a WeChat account to a registration.

A candidate acts through their openid and sees nothing of a registration until they have
proved it is theirs (name and the ID number's last six characters, or an office's one-time
code). One registration binds one account; a binding whose account cannot receive pushes stays
bound but inactive until the candidate writes to us again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from bot.registry.changes import PushQueue, history_entry, set_binding
from bot.registry.identity import Identity, normalize_id, normalize_name
from bot.registry.models import Candidate
from bot.store.registry import Batch, RegistryStore

BindKind = Literal["bound", "already", "taken", "mismatch", "cooldown", "has_other"]


@dataclass(frozen=True)
class BindOutcome:
    kind: BindKind
    candidate: Candidate | None = None  # only once identity is proved
    wait_seconds: int = 0


class Bindings:
    """Binds, unbinds and pauses a candidate's pushes, always through their own openid."""

    def __init__(
        self, store: RegistryStore, pushes: PushQueue, identity: Identity, failures_per_hour: int
    ) -> None:
        self.store = store
        self.pushes = pushes
        self.identity = identity
        self.failures_per_hour = failures_per_hour

    def bind(self, openid: str, registration: str, name: str, id_tail: str) -> BindOutcome:
        # Counted per 报名号 even when none exists, so the answer tells nothing apart.
        if wait := self.store.take_bind_attempt(openid, registration, self.failures_per_hour):
            return BindOutcome("cooldown", wait_seconds=wait)
        found = self.store.candidate(registration)
        if (
            found is None
            or normalize_name(name) != found.name
            or not self.identity.tail_matches(found.id_tail_hash, normalize_id(id_tail))
        ):
            return BindOutcome("mismatch")
        self.store.forgive_bind_attempt(openid, registration)
        return self._attach(openid, registration)

    def bind_with_code(self, openid: str, code: str) -> BindOutcome:
        if wait := self.store.take_bind_attempt(openid, None, self.failures_per_hour):
            return BindOutcome("cooldown", wait_seconds=wait)
        registration = self.store.binding_code(self.identity.code_digest(code))
        if registration is None:
            return BindOutcome("mismatch")
        self.store.forgive_bind_attempt(openid, None)
        # The code is used up only by a binding that succeeds (_attach voids it).
        return self._attach(openid, registration)

    def _attach(self, openid: str, registration: str) -> BindOutcome:
        current = self.bound(openid)
        if current is not None and current.registration != registration:
            return BindOutcome("has_other", current)

        def body(found: dict[str, Candidate | None], batch: Batch) -> BindOutcome:
            candidate = found[registration]
            assert candidate is not None  # identity was checked against it
            if candidate.openid not in (None, openid):
                return BindOutcome("taken", candidate)
            kind: BindKind = "already" if candidate.openid == openid else "bound"
            bound = set_binding(batch, candidate, openid, "candidate", "bound")
            self.pushes.schedule_reminder(batch, bound, time.time())
            return BindOutcome(kind, bound)

        outcome = self.store.transaction([registration], body)
        if outcome.kind in ("bound", "already"):
            self.store.set_bound_registration(openid, registration)
            self.store.void_binding_code(registration)
        return outcome

    def unbind(self, openid: str) -> Candidate | None:
        """Unbinds the user's registration; None when nothing was bound."""
        registration = self.store.bound_registration(openid)
        if registration is None:
            return None

        def body(found: dict[str, Candidate | None], batch: Batch) -> Candidate | None:
            candidate = found[registration]
            if candidate is None or candidate.openid != openid:
                return None
            return set_binding(batch, candidate, None, "candidate", "unbound")

        released = self.store.transaction([registration], body)
        self.store.set_bound_registration(openid, None)
        return released

    def bound(self, openid: str) -> Candidate | None:
        """The registration this user bound, if the binding still stands (an office may have
        released it since)."""
        registration = self.store.bound_registration(openid)
        if registration is None:
            return None
        found = self.store.candidate(registration)
        return found if found is not None and found.openid == openid else None

    def deactivate(self, registration: str, openid: str) -> None:
        """The user cannot receive pushes (unfollowed or refused them): stop trying."""

        def body(found: dict[str, Candidate | None], batch: Batch) -> None:
            candidate = found[registration]
            if candidate is None or candidate.openid != openid or not candidate.binding_active:
                return
            inactive = candidate.model_copy(update={"binding_active": False})
            batch.save(inactive)
            batch.record(registration, history_entry(inactive, "system", "deactivated"))

        self.store.transaction([registration], body)

    def reactivate(self, registration: str, openid: str) -> None:
        """The user writes to us again, so they follow us: pushes may resume."""

        def body(found: dict[str, Candidate | None], batch: Batch) -> None:
            candidate = found[registration]
            if candidate is None or candidate.openid != openid or candidate.binding_active:
                return
            active = candidate.model_copy(update={"binding_active": True})
            batch.save(active)
            batch.record(registration, history_entry(active, "candidate", "bound"))

        self.store.transaction([registration], body)
