"""Private keys parsed with ``cryptography``: a block that does not parse is not a leaked key."""

from __future__ import annotations

import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from nexora.scanner.validators.registry import Outcome, register

_ESCAPED_NEWLINE = re.compile(r"(?:\\r)?\\n")
# Base64 may start or end with "+" and "/", so only quotes, comment marks and concatenation are noise.
_LINE_NOISE = re.compile(r"""^[\s"'`,#*]*|["'`]\s*\+?\s*[,;]?\s*\\?$|[\s,;\\]+$""", re.MULTILINE)


def normalise_pem(secret: str) -> bytes:
    """Undo the usual ways a PEM block is embedded in code: ``\\n`` escapes, indentation, quotes."""
    text = _ESCAPED_NEWLINE.sub("\n", secret)
    lines = [_LINE_NOISE.sub("", line) for line in text.splitlines()]
    return ("\n".join(line for line in lines if line) + "\n").encode("ascii")


@register("private-key")
def private_key(secret: str) -> Outcome:
    """Parse the PEM/OpenSSH block; encrypted keys pass (reported as encrypted), garbage fails."""
    data = normalise_pem(secret)
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            serialization.load_ssh_private_key(data, password=None)
        else:
            serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        # cryptography raises TypeError exactly when the key is encrypted and needs a password.
        return Outcome(True, "encrypted")
    except (ValueError, UnsupportedAlgorithm):
        return Outcome(False, "does not parse")
    return Outcome(True, "parsed")
