"""ID numbers and phones: never kept in clear — a keyed hash to match, a masked form to show.

The key (REGISTRY_SECRET) makes the hashes useless to whoever copies the database: an ID
number has little entropy, so a plain hash would fall to a dictionary of every possible one.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


class Identity:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def digest(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of the normalised value; `purpose` keeps an ID's and a phone's apart."""
        message = f"{purpose}\0{normalize_id(value)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def id_hashes(self, id_number: str) -> tuple[str, str]:
        """The whole number's hash (to match) and its last six characters' (binding asks them)."""
        clean = normalize_id(id_number)
        return self.digest("id", clean), self.digest("id-tail", clean[-6:])

    def code_digest(self, code: str) -> str:
        """A one-time binding code's digest: keyed too, as 40 bits fall to plain guessing.

        Only the alphabet's characters count: the dash, spaces and case are as people type it.
        """
        clean = "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)
        return self.digest("binding-code", clean)

    def tail_matches(self, tail_hash: str, typed: str) -> bool:
        return hmac.compare_digest(tail_hash, self.digest("id-tail", typed))


def normalize_id(value: str) -> str:
    """Full-width digits, spaces and a lowercase x are how people type an ID number."""
    return unicodedata.normalize("NFKC", value).replace(" ", "").upper()


def normalize_name(value: str) -> str:
    return unicodedata.normalize("NFKC", value).replace(" ", "").replace("·", "•")


def mask(value: str, keep_head: int, keep_tail: int) -> str:
    """3201**********1234: enough for the candidate to recognise it, not enough to use it.

    At least half is always hidden, so a short number (a 9-character 港澳通行证) is not shown
    nearly whole.
    """
    clean = normalize_id(value)
    keep = len(clean) // 4
    head, tail = min(keep_head, keep), min(keep_tail, keep)
    return clean[:head] + "*" * (len(clean) - head - tail) + clean[len(clean) - tail :]


def mask_id(id_number: str) -> str:
    return mask(id_number, 4, 4)


def mask_phone(phone: str) -> str:
    """138****8000, the way phones are masked everywhere in China (validated as 11 digits)."""
    return phone[:3] + "****" + phone[-4:]
