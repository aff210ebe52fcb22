"""The audit log: tamper-evident, provable, searchable, streamed (see docs/audit.md).

Importing this package loads nothing but the standard library, so the offline verifier
(``nexora.audit.verifier``) stays free of server dependencies.
"""
