"""Audit routes: search, entries, proofs, signed heads, public keys, export and verification.

Everything but the public keys needs the ``auditor`` role (admins hold every role).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from nexora.api.streaming import primed
from nexora.audit import service
from nexora.audit.deps import AnyCaller, AuditAdmin, AuditReader
from nexora.audit.schemas import (
    ConsistencyProofOut,
    EntryOut,
    InclusionProofOut,
    KeyRotated,
    Outcome,
    PublicKeyOut,
    PublicKeys,
    TreeHeadOut,
    VerificationOut,
)
from nexora.auth.deps import runtime_of
from nexora.core.errors import NotFound
from nexora.core.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

MAX_SEQ = 2**62
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "Not signed in or the credential is invalid"},
    403: {"description": "Signed in without the auditor or admin role"},
    422: {"description": "Invalid parameters"},
}

Seq = Annotated[int, Path(ge=0, le=MAX_SEQ, description="Sequence number of the entry.")]
Text = Annotated[str | None, Query(min_length=1, max_length=512)]


def _filters(
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    outcome: Outcome | None = None,
    since: Annotated[datetime | None, Query(description="Entries that occurred at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Entries that occurred before this time.")] = None,
) -> service.EntryFilter:
    return service.EntryFilter(actor=actor, action=action, target=target, outcome=outcome, since=since, until=until)


Filters = Annotated[service.EntryFilter, Depends(_filters)]


@router.get("/entries", response_model=Page[EntryOut], responses={**_ERRORS})
async def list_entries(
    scope: AuditReader, filters: Filters, limit: Limit = 50, cursor: Cursor = None
) -> Page[EntryOut]:
    """Search the log, newest first: exact actor, action, target and outcome, and a time range."""
    entries, next_cursor = await service.list_entries(scope.session, scope.log, filters, limit=limit, cursor=cursor)
    return Page(items=[EntryOut(**service.entry_view(e)) for e in entries], next_cursor=next_cursor)


@router.get("/entries/{seq}", response_model=EntryOut, responses={**_ERRORS, 404: {"description": "No such entry"}})
async def get_entry(seq: Seq, scope: AuditReader) -> EntryOut:
    """One entry with its leaf hash."""
    return EntryOut(**service.entry_view(await service.get_entry(scope.session, scope.log, seq)))


@router.get("/entries/{seq}/proof", response_model=InclusionProofOut, responses={**_ERRORS})
async def inclusion_proof(
    seq: Seq,
    scope: AuditReader,
    tree_size: Annotated[int, Query(ge=1, le=MAX_SEQ, description="Size of the tree to prove inclusion in.")],
) -> InclusionProofOut:
    """RFC 9162 inclusion proof of the entry in the tree of the first `tree_size` entries."""
    return InclusionProofOut.of(await service.inclusion_proof(scope.session, scope.log, seq, tree_size))


@router.get("/consistency", response_model=ConsistencyProofOut, responses={**_ERRORS})
async def consistency_proof(
    scope: AuditReader,
    first: Annotated[int, Query(ge=0, le=MAX_SEQ)],
    second: Annotated[int, Query(ge=0, le=MAX_SEQ)],
) -> ConsistencyProofOut:
    """RFC 9162 consistency proof: the tree of `first` entries is a prefix of the tree of `second`."""
    return ConsistencyProofOut.of(await service.consistency_proof(scope.session, scope.log, first, second))


@router.get("/tree-heads", response_model=Page[TreeHeadOut], responses={**_ERRORS})
async def list_tree_heads(scope: AuditReader, limit: Limit = 50, cursor: Cursor = None) -> Page[TreeHeadOut]:
    """Signed tree heads, newest first."""
    heads, next_cursor = await service.list_tree_heads(scope.session, scope.log, limit=limit, cursor=cursor)
    return Page(items=[TreeHeadOut.of(h) for h in heads], next_cursor=next_cursor)


@router.get("/tree-heads/latest", response_model=TreeHeadOut, responses={**_ERRORS, 404: {"description": "None"}})
async def latest_tree_head(scope: AuditReader) -> TreeHeadOut:
    """The newest signed tree head."""
    heads, _ = await service.list_tree_heads(scope.session, scope.log, limit=1, cursor=None)
    if not heads:
        raise NotFound("this log has no signed tree head yet; sign one with POST /api/v1/audit/tree-heads")
    return TreeHeadOut.of(heads[0])


@router.post("/tree-heads", response_model=TreeHeadOut, status_code=201, responses={**_ERRORS})
async def sign_tree_head(request: Request, scope: AuditReader) -> TreeHeadOut:
    """Sign the log's current size and root now (the worker also signs at an interval)."""
    head = await service.sign_tree_head(scope.session, runtime_of(request).cipher, scope.log)
    return TreeHeadOut.of(head)


@router.get("/public-key", response_model=PublicKeys, responses={401: _ERRORS[401]})
async def public_keys(scope: AnyCaller) -> PublicKeys:
    """The log's Ed25519 public keys: the current one and every retired one (old heads stay verifiable)."""
    keys = await service.list_keys(scope.session, scope.log)
    return PublicKeys(log=str(scope.log), keys=[PublicKeyOut.of(k) for k in keys])


@router.post("/keys/rotate", response_model=KeyRotated, status_code=201, responses={**_ERRORS})
async def rotate_key(request: Request, scope: AuditAdmin) -> KeyRotated:
    """Make a new signing key (admins) and sign a head with it; the old key stays published."""
    key, head = await service.rotate_key(scope.session, runtime_of(request).cipher, scope.log)
    return KeyRotated(key=PublicKeyOut.of(key), tree_head=TreeHeadOut.of(head))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={**_ERRORS, 200: {"content": {"application/x-ndjson": {}}, "description": "One entry per line"}},
)
async def export_entries(request: Request, scope: AuditReader, filters: Filters) -> StreamingResponse:
    """Matching entries (typically a time range), oldest first, as NDJSON."""
    lines = await primed(service.export_entries(runtime_of(request).db, scope.log, filters))
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.get(
    "/bundle",
    response_class=StreamingResponse,
    responses={**_ERRORS, 200: {"content": {"application/x-ndjson": {}}, "description": "A verification bundle"}},
)
async def bundle(request: Request, scope: AuditReader) -> StreamingResponse:
    """The whole log as a self-contained bundle for `nexora audit verify --bundle` (no server needed)."""
    lines = await primed(service.bundle_lines(runtime_of(request).db, scope.log))
    filename = f"nexora-audit-{scope.log}.jsonl"
    return StreamingResponse(
        lines, media_type="application/x-ndjson", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/verify", response_model=VerificationOut, responses={**_ERRORS})
async def verify(request: Request, scope: AuditReader) -> VerificationOut:
    """Check every entry against the signed heads and keys now; names what is wrong and where."""
    runtime = runtime_of(request)
    report = await service.verify_log(runtime.db, runtime.cipher, scope.log)
    return VerificationOut.model_validate(report.to_dict())
