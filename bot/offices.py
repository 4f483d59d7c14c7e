"""Exam offices' access to the admin API: bearer tokens, stored only as hashes, scoped."""

from __future__ import annotations

import hashlib
import secrets
import time

from bot.content.provinces import provinces
from bot.store import OfficeToken, Store


class UnknownProvince(ValueError):
    """A token asked for a province we hold no notice for."""


def issue_token(store: Store, office: str, province: str, exam_point: str | None = None) -> str:
    """Makes a token for `office`, scoped to `province` (and optionally one exam point).

    The token is shown once; only its SHA-256 is kept, so a leaked database leaks no token.
    """
    if provinces().get(province) is None:
        raise UnknownProvince(province)
    token = "yk_" + secrets.token_urlsafe(32)
    record = OfficeToken(
        office=office, province=province, exam_point=exam_point, created_at=time.time()
    )
    store.save_office_token(_digest(token), record)
    return token


def authenticate(store: Store, authorization: str | None) -> OfficeToken | None:
    """The office behind an `Authorization: Bearer …` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return store.office_token(_digest(token.strip()))


def _digest(token: str) -> str:
    # A token has 256 bits of entropy: a plain hash is enough, no slow password hash needed.
    return hashlib.sha256(token.encode()).hexdigest()


def revoke(store: Store, token_or_id: str) -> OfficeToken | None:
    """Revokes a token, named by itself or by the id `tokens` lists (its hash's first 12
    characters); returns whose it was, or None when nothing matched exactly one token."""
    wanted = _digest(token_or_id) if token_or_id.startswith("yk_") else token_or_id
    found = [h for h in store.office_tokens() if h.startswith(wanted)]
    if len(found) != 1 or len(wanted) < 12:
        return None
    office = store.office_token(found[0])
    store.revoke_office_token(found[0])
    return office


def listed(store: Store) -> list[tuple[str, OfficeToken]]:
    """Every token as (id, holder), oldest first; the id is not the token and grants nothing."""
    return sorted(
        ((h[:12], o) for h, o in store.office_tokens().items()), key=lambda x: x[1].created_at
    )
