"""Pydantic models at the audit API edge. Hashes are hex; signatures and public keys are base64;
times are the log's canonical text (UTC, microseconds, ``Z``), exactly as hashed and signed."""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, Field

from nexora.audit import encoding
from nexora.audit.models import TreeHead
from nexora.audit.service import ConsistencyProof as ConsistencyResult
from nexora.audit.service import InclusionProof, KeyInfo

Outcome = Literal["success", "failure", "denied"]


class EntryOut(BaseModel):
    log: str = Field(description="The tenant id, or the nil UUID for the platform log.")
    seq: int = Field(description="Sequence number: the entry's leaf index.")
    event_id: str
    occurred_at: str
    recorded_at: str
    actor: str
    action: str
    target: str | None
    outcome: Outcome
    source: str
    source_address: str | None
    request_id: str | None
    payload: Any = Field(description="The event data (secret-looking fields redacted).")
    leaf_hash: str


class InclusionProofOut(BaseModel):
    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str = Field(description="Root of the tree of `tree_size` entries; compare with a signed head.")
    audit_path: list[str] = Field(description="RFC 9162 inclusion proof, leaf side first.")

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofOut:
        return cls(
            seq=proof.seq,
            tree_size=proof.tree_size,
            leaf_hash=proof.leaf_hash.hex(),
            root_hash=proof.root_hash.hex(),
            audit_path=[h.hex() for h in proof.path],
        )


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="RFC 9162 consistency proof.")

    @classmethod
    def of(cls, proof: ConsistencyResult) -> ConsistencyProofOut:
        return cls(
            first=proof.first,
            second=proof.second,
            first_root=proof.first_root.hex(),
            second_root=proof.second_root.hex(),
            proof=[h.hex() for h in proof.path],
        )


class TreeHeadOut(BaseModel):
    log: str
    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str = Field(description="Ed25519 signature (base64) of the canonical tree-head message.")

    @classmethod
    def of(cls, head: TreeHead) -> TreeHeadOut:
        return cls(
            log=str(head.tenant_id),
            tree_size=head.tree_size,
            root_hash=head.root_hash.hex(),
            timestamp=encoding.timestamp(head.signed_at),
            key_id=head.key_id,
            signature=base64.b64encode(head.signature).decode(),
        )


class PublicKeyOut(BaseModel):
    key_id: str
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="Raw 32-byte Ed25519 public key, base64.")
    public_key_pem: str
    created_at: str
    retired_at: str | None
    status: Literal["current", "retired"]

    @classmethod
    def of(cls, key: KeyInfo) -> PublicKeyOut:
        return cls(
            key_id=key.key_id,
            algorithm="Ed25519",
            public_key=base64.b64encode(key.public_key).decode(),
            public_key_pem=key.public_key_pem,
            created_at=encoding.timestamp(key.created_at),
            retired_at=encoding.timestamp(key.retired_at) if key.retired_at else None,
            status="retired" if key.retired_at else "current",
        )


class PublicKeys(BaseModel):
    log: str
    keys: list[PublicKeyOut] = Field(description="Current key first, then retired keys (still valid for old heads).")


class KeyRotated(BaseModel):
    key: PublicKeyOut
    tree_head: TreeHeadOut


class VerificationProblem(BaseModel):
    kind: Literal[
        "modified", "deleted", "inserted", "reordered", "truncated", "forged_head", "unknown_key", "swapped_key", "fork"
    ]
    seq: int | None = Field(description="The first sequence number this problem puts in doubt.")
    message: str


class VerificationOut(BaseModel):
    ok: bool
    log: str
    entries: int
    heads: int
    signed_size: int = Field(description="Entries covered by the largest valid signed head.")
    unsigned_entries: int
    first_bad_seq: int | None
    problems: list[VerificationProblem]
    problem_count: int
    warnings: list[str]
