"""Verify an audit log without trusting Nexora: standard library and ``cryptography`` only.

The same :class:`LogVerifier` checks the live log (fed from the database) and an exported bundle
(fed from a file, ``nexora audit verify --bundle FILE`` or ``python -m nexora.audit.verifier FILE``).
It recomputes every leaf from the entry's fields, rebuilds the RFC 9162 tree, checks each tree head's
Ed25519 signature and root, and the consistency proofs between heads. Each problem names its kind
and the first sequence number it puts in doubt:

* ``modified``: an entry's fields no longer give its leaf hash, or the entries no longer give a
  signed root (when the leaf hashes were recomputed too, the range between two heads is named);
* ``deleted`` / ``inserted`` / ``reordered``: sequence numbers with gaps, duplicates or out of
  order, or entries whose leaf matches a neighbouring sequence number;
* ``truncated``: a valid head covers more entries than the log holds;
* ``forged_head``: a head whose signature does not verify;
* ``unknown_key`` / ``swapped_key``: a head signed by a key that is not published (or not pinned),
  or a published key whose bytes do not match its id or its sealed private key;
* ``fork``: two valid heads that cannot describe the same log.
"""

from nexora.audit.verifier.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    BundleError,
    load_trusted_keys,
    verify_bundle,
    verify_bundle_lines,
)
from nexora.audit.verifier.log import (
    ConsistencyProof,
    LogVerifier,
    Problem,
    PublicKey,
    Report,
    TreeHead,
    signature_valid,
)

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "BundleError",
    "ConsistencyProof",
    "LogVerifier",
    "Problem",
    "PublicKey",
    "Report",
    "TreeHead",
    "load_trusted_keys",
    "signature_valid",
    "verify_bundle",
    "verify_bundle_lines",
]
