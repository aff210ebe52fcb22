"""The answer of one live check: valid / invalid / unknown, a short detail and the identity the key belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nexora.scanner.model import Verification

# Bounds on what a provider's answer can put into a report.
MAX_IDENTITY_FIELDS = 12
MAX_VALUE_LENGTH = 200
MAX_DETAIL_LENGTH = 300
REDACTED = "[redacted]"

Identity = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """``result`` and ``detail`` as reports show them; ``identity`` is (field, value) pairs such as
    ``("user", "ci-bot")``, ``("email", …)``, ``("org", …)``, ``("scopes", "repo, gist")``: who the key belongs to,
    as the provider's own answer says. Never contains the secret (see :meth:`scrubbed`)."""

    result: Verification
    detail: str
    identity: Identity = ()

    @classmethod
    def unknown(cls, detail: str) -> Outcome:
        return cls(Verification.UNKNOWN, detail)

    @classmethod
    def invalid(cls, detail: str) -> Outcome:
        return cls(Verification.INVALID, detail)

    def scrubbed(self, secret: str) -> Outcome:
        """This outcome with every occurrence of ``secret`` replaced and every text bounded.

        A provider may echo the key (a label, an error message): what reports carry must never contain it.
        """
        return Outcome(
            self.result,
            scrub(self.detail, secret, MAX_DETAIL_LENGTH),
            tuple((key, scrub(value, secret, MAX_VALUE_LENGTH)) for key, value in self.identity[:MAX_IDENTITY_FIELDS]),
        )


def scrub(text: str, secret: str, limit: int) -> str:
    """``text`` without ``secret`` (nor its URL-quoted form), control characters removed, at most ``limit`` long."""
    from urllib.parse import quote

    if secret:
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, REDACTED)
    text = "".join(char if char.isprintable() else " " for char in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def identity_from(pairs: Iterable[tuple[str, str]]) -> Identity:
    """Pairs with empty values dropped and repeated fields merged (``"a, b"``), in first-seen order."""
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        if value:
            values = merged.setdefault(key, [])
            if value not in values:
                values.append(value)
    return tuple((key, ", ".join(values)) for key, values in merged.items())


def describe(identity: Identity) -> str:
    """``"user ci-bot, org acme"``: the identity in a line of text."""
    return ", ".join(f"{key} {value}" for key, value in identity)
