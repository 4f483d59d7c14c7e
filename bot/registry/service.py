"""The offices' side of the registry: imports, state changes — and the push each change queues.

Offices act through a scope (their token: a province, maybe one exam point) and never see a
candidate outside it. The candidates' side, binding a WeChat account, is `binding.py`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from pydantic import ValidationError

from bot.content.knowledge import notices
from bot.content.provinces import provinces
from bot.registry.changes import PushQueue, history_entry, set_binding
from bot.registry.identity import CODE_ALPHABET, Identity, mask_id, mask_phone, normalize_name
from bot.registry.imports import CandidateRow, ImportReport, RawRow, RowProblem, problems_of
from bot.registry.models import Candidate, Change, ChangeKind, ReviewState
from bot.registry.updates import StateUpdate, UpdateResult
from bot.store import OfficeToken
from bot.store.registry import Batch, RegistryStore

CHUNK = 500  # rows per transaction: one MGET and one MULTI each
TAKEN_ELSEWHERE = "报名号已由其他考区或考点登记"


def in_scope(office: OfficeToken, candidate: Candidate) -> bool:
    return candidate.province == office.province and (
        office.exam_point is None or candidate.exam_point == office.exam_point
    )


def collects_fee_online(province: str) -> bool:
    found = provinces().get(province)
    return found is not None and notices()[found.notice].payment is not None


class Registry:
    """What offices do to the candidates in their scope, each change with its push."""

    def __init__(self, store: RegistryStore, pushes: PushQueue, identity: Identity) -> None:
        self.store = store
        self.pushes = pushes
        self.identity = identity

    # -- import ---------------------------------------------------------------------------
    def import_rows(
        self, rows: Sequence[RawRow], office: OfficeToken, *, apply_valid: bool = False
    ) -> ImportReport:
        """Validates every row; applies them all, or only the valid ones when asked to."""
        report = ImportReport()
        valid: list[tuple[int, CandidateRow]] = []
        seen: dict[str, int] = {}
        for raw in rows:
            registration = str(raw.fields.get("registration") or "") or None
            try:
                row = CandidateRow.model_validate(_resolve_province(raw.fields))
            except ValidationError as exc:
                report.problems += [
                    RowProblem(raw.line, registration, f, r) for f, r in problems_of(exc)
                ]
                continue
            if problem := self._row_problem(row, office, seen):
                report.problems.append(RowProblem(raw.line, row.registration, *problem))
                continue
            seen[row.registration] = raw.line
            valid.append((raw.line, row))
        valid = self._not_taken(valid, office, report)
        if report.problems and not apply_valid:
            return report
        for start in range(0, len(valid), CHUNK):
            self._apply_rows(valid[start : start + CHUNK], office, report)
        report.applied = True
        return report

    def _not_taken(
        self, rows: list[tuple[int, CandidateRow]], office: OfficeToken, report: ImportReport
    ) -> list[tuple[int, CandidateRow]]:
        """Rows whose 报名号 no other office holds (checked again when applied)."""
        kept = []
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            found = self.store.candidates([row.registration for _, row in chunk])
            for line, row in chunk:
                old = found[row.registration]
                if old is not None and not in_scope(office, old):
                    report.problems.append(
                        RowProblem(line, row.registration, "registration", TAKEN_ELSEWHERE)
                    )
                else:
                    kept.append((line, row))
        return kept

    def _row_problem(
        self, row: CandidateRow, office: OfficeToken, seen: dict[str, int]
    ) -> tuple[str, str] | None:
        if row.registration in seen:
            return "registration", f"与第 {seen[row.registration]} 行的报名号重复"
        if row.province != office.province:
            return "province", f"不属于本办公室的考区（{office.province}）"
        if office.exam_point is not None and row.exam_point != office.exam_point:
            return "exam_point", f"不属于本办公室的考点（{office.exam_point}）"
        if row.payment is not None and not collects_fee_online(row.province):
            return "payment", "该考区不在网上收费，不应有缴费状态"
        return None

    def _apply_rows(
        self, rows: list[tuple[int, CandidateRow]], office: OfficeToken, report: ImportReport
    ) -> None:
        def body(current: dict[str, Candidate | None], batch: Batch) -> ImportReport:
            part = ImportReport()
            now = time.time()
            for line, row in rows:
                old = current[row.registration]
                if old is not None and not in_scope(office, old):
                    part.problems.append(
                        RowProblem(line, row.registration, "registration", TAKEN_ELSEWHERE)
                    )
                    continue
                new = self._candidate_of(row, old, office, now)
                if old is not None and new == old:
                    part.unchanged += 1
                    continue
                if old is None:
                    part.created += 1
                else:
                    part.updated += 1
                self._commit(
                    batch, new, old, "imported" if old is None else "updated", now, office
                )
            return part

        part = self.store.transaction([r.registration for _, r in rows], body)
        report.created += part.created
        report.updated += part.updated
        report.unchanged += part.unchanged
        report.problems += part.problems

    def _candidate_of(
        self, row: CandidateRow, old: Candidate | None, office: OfficeToken, now: float
    ) -> Candidate:
        id_hash, tail_hash = self.identity.id_hashes(row.id_number)
        state = row.state_over(old.state if old is not None else ReviewState())
        base = old or Candidate(
            registration=row.registration,
            name="",
            id_hash="",
            id_tail_hash="",
            id_masked="",
            province=row.province,
            exam_point=row.exam_point,
            category=row.category,
            changed_at=now,
            changed_by=office.office,
            version=0,
        )
        updated = base.model_copy(
            update={
                "name": normalize_name(row.name),
                "id_hash": id_hash,
                "id_tail_hash": tail_hash,
                "id_masked": mask_id(row.id_number),
                "phone_hash": self.identity.digest("phone", row.phone) if row.phone else None,
                "phone_masked": mask_phone(row.phone) if row.phone else None,
                "exam_point": row.exam_point,
                "category": row.category,
                "state": state,
            }
        )
        if old is not None and updated == old:
            return old
        changed_state = old is None or state != old.state
        return updated.model_copy(
            update={
                "version": base.version + 1 if changed_state else base.version,
                "changed_at": now if changed_state else base.changed_at,
                "changed_by": office.office if changed_state else base.changed_by,
            }
        )

    # -- state changes ----------------------------------------------------------------------
    def update_states(
        self, updates: Sequence[StateUpdate], office: OfficeToken
    ) -> list[UpdateResult]:
        """Applies each update; an identical re-sent update changes (and pushes) nothing."""
        results: list[UpdateResult] = []
        for start in range(0, len(updates), CHUNK):
            results += self._update_chunk(updates[start : start + CHUNK], office)
        return results

    def _update_chunk(
        self, updates: Sequence[StateUpdate], office: OfficeToken
    ) -> list[UpdateResult]:
        def body(current: dict[str, Candidate | None], batch: Batch) -> list[UpdateResult]:
            out: list[UpdateResult] = []
            now = time.time()
            staged: dict[str, Candidate] = {}
            for update in updates:
                reg = update.registration
                old = staged.get(reg) or current[reg]
                if old is None or not in_scope(office, old):
                    # The same answer whether it exists elsewhere or not at all.
                    out.append(UpdateResult(registration=reg, outcome="not_found"))
                    continue
                try:
                    state = update.applied_to(old.state)
                except ValidationError as exc:
                    reason = "; ".join(str(e["msg"]) for e in exc.errors())
                    out.append(UpdateResult(registration=reg, outcome="invalid", reason=reason))
                    continue
                if state.payment is not None and not collects_fee_online(old.province):
                    out.append(
                        UpdateResult(
                            registration=reg, outcome="invalid", reason="该考区不在网上收费"
                        )
                    )
                    continue
                if state == old.state:
                    out.append(
                        UpdateResult(registration=reg, outcome="unchanged", version=old.version)
                    )
                    continue
                new = old.model_copy(
                    update={
                        "state": state,
                        "version": old.version + 1,
                        "changed_at": now,
                        "changed_by": office.office,
                    }
                )
                staged[reg] = new
                out.append(UpdateResult(registration=reg, outcome="changed", version=new.version))
            for new in staged.values():
                self._commit(batch, new, current[new.registration], "updated", now, office)
            return out

        return self.store.transaction([u.registration for u in updates], body)

    def _commit(
        self,
        batch: Batch,
        new: Candidate,
        old: Candidate | None,
        kind: ChangeKind,
        now: float,
        office: OfficeToken,
    ) -> None:
        """Saves the record; a new state version gets its history entry, push and reminder,
        any other edit (name, category…) a history entry of who made it."""
        batch.save(new)
        if old is not None and old.version == new.version:
            batch.record(new.registration, history_entry(new, office.office, "edited"))
            return
        batch.record(
            new.registration,
            Change(version=new.version, state=new.state, by=new.changed_by, at=now, kind=kind),
        )
        if new.openid and new.binding_active:
            self.pushes.push(batch, new, f"v{new.version}", now)
            self.pushes.schedule_reminder(batch, new, now)

    def queue_reminder(self, registration: str, version: int) -> bool:
        """The reminder's push, if the state is still the one it was scheduled for."""

        def body(current: dict[str, Candidate | None], batch: Batch) -> bool:
            found = current[registration]
            if (
                found is None
                or found.version != version
                or found.state.locked
                or not (found.openid and found.binding_active)
            ):
                return False
            key = f"v{version}-reminder"
            if self.store.delivery(registration, key) is not None:
                return False  # a re-run of the reminder job
            self.pushes.push(batch, found, key, time.time())
            return True

        return self.store.transaction([registration], body)

    # -- reading, codes, releasing ---------------------------------------------------------
    def read(self, registration: str, office: OfficeToken) -> Candidate | None:
        found = self.store.candidate(registration)
        return found if found is not None and in_scope(office, found) else None

    def issue_code(self, registration: str, office: OfficeToken) -> str | None:
        """A one-time binding code for the candidate (kept only as its hash)."""
        if self.read(registration, office) is None:
            return None
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        self.store.save_binding_code(self.identity.code_digest(raw), registration)
        return f"{raw[:4]}-{raw[4:]}"

    def release(self, registration: str, office: OfficeToken) -> bool:
        """The office frees a registration bound to a WeChat account the candidate lost."""

        def body(current: dict[str, Candidate | None], batch: Batch) -> bool:
            found = current[registration]
            if found is None or not in_scope(office, found):
                return False
            set_binding(batch, found, None, office.office, "released")
            return True

        return self.store.transaction([registration], body)


def _resolve_province(fields: dict[str, object]) -> dict[str, object]:
    """Offices write 河北 or hebei; rows carry the id."""
    value = fields.get("province")
    if isinstance(value, str):
        found = provinces().exact(value.strip()) or provinces().get(value.strip())
        if found is not None:
            return {**fields, "province": found.id}
    return fields
