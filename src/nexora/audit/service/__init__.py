"""Audit use cases: the only code that writes the audit tables (other domains call these).

Split by use case: ``log`` (staging and appending entries), ``proofs`` (inclusion, consistency,
roots), ``heads`` (signing keys and signed tree heads), ``search`` (reading and NDJSON export) and
``verification`` (live checks and bundles).
"""

from nexora.audit.encoding import PLATFORM_LOG
from nexora.audit.service.heads import (
    KeyInfo,
    list_keys,
    list_tree_heads,
    logs_to_sign,
    rotate_key,
    sign_due_heads,
    sign_tree_head,
)
from nexora.audit.service.log import EntryDraft, append, draft_from_event, outcome_of, record, redact_secrets
from nexora.audit.service.proofs import (
    ConsistencyProof,
    InclusionProof,
    consistency_proof,
    inclusion_proof,
    log_size,
    root_at,
)
from nexora.audit.service.search import EntryFilter, entry_view, export_entries, get_entry, list_entries
from nexora.audit.service.verification import bundle_lines, verify_log

__all__ = [
    "PLATFORM_LOG",
    "ConsistencyProof",
    "EntryDraft",
    "EntryFilter",
    "InclusionProof",
    "KeyInfo",
    "append",
    "bundle_lines",
    "consistency_proof",
    "draft_from_event",
    "entry_view",
    "export_entries",
    "get_entry",
    "inclusion_proof",
    "list_entries",
    "list_keys",
    "list_tree_heads",
    "log_size",
    "logs_to_sign",
    "outcome_of",
    "record",
    "redact_secrets",
    "root_at",
    "rotate_key",
    "sign_due_heads",
    "sign_tree_head",
    "verify_log",
]
