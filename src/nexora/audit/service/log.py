"""Appending to the logs: events become entries, entries become leaves and stored subtrees.

The audit consumer is the only writer. The bus hands it events one at a time inside one transaction
per batch; :func:`record` only stages each event in memory, and the staged entries are appended
together, just before that transaction commits, with a handful of statements per log. A batch that
rolls back therefore appends nothing, and the per-event cost stays a few microseconds of hashing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from nexora.audit import encoding, merkle
from nexora.audit.service.proofs import subtree_hashes
from nexora.core.bus import write_outbox
from nexora.core.crypto import redact
from nexora.core.db import set_tenant
from nexora.core.events import Event
from nexora.core.ids import utcnow
from nexora.core.keyformat import API_KEY_PATTERN

SOURCE = "nexora.audit"
ACTOR = "system:audit"
ENTRY_EVENT = "audit.entry"
REDACTED = "[redacted]"
MAX_FIELD_LENGTH = 2048
_STAGED = "nexora.audit.staged"

# Field names whose values are credentials whatever they hold.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|passphrase|secret|token|credentials?|authorization|cookie|"
    r"private_key|secret_key|access_key|api_key|client_secret|session_key|signing_key)$"
)
# Credential shapes Nexora itself issues, in case one reaches a free-text field.
_SECRET_VALUE = re.compile(
    "|".join(
        (
            API_KEY_PATTERN.pattern,
            r"rt1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{20,}",  # refresh tokens
            r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+",  # JWTs
        )
    )
)
_DENIED_SUFFIXES = ("_denied", "_rejected", "_blocked", "_forbidden", "reuse_detected", "security_alert")
_FAILED_SUFFIXES = ("_failed", "_failure", "_error")


@dataclass(frozen=True)
class EntryDraft:
    """An entry before it has a sequence number: what the audit consumer makes of one event."""

    log: uuid.UUID
    event_id: uuid.UUID
    occurred_at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    source: str
    source_address: str | None
    request_id: str | None
    payload: str  # canonical JSON


def outcome_of(event_type: str, data: Mapping[str, Any]) -> str:
    """``success`` unless the event says otherwise or its type names a failure or a refusal."""
    declared = data.get("outcome")
    if isinstance(declared, str) and declared in encoding.OUTCOMES:
        return declared
    name = event_type.rsplit(".", 1)[-1]
    if name.endswith(_DENIED_SUFFIXES):
        return "denied"
    if name.endswith(_FAILED_SUFFIXES):
        return "failure"
    return "success"


def redact_secrets(value: Any) -> Any:
    """``value`` with credential-named fields and credential-shaped strings replaced."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _SECRET_NAME.search(str(key).lower()) and item is not None else redact_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    if isinstance(value, str) and _SECRET_VALUE.search(value):
        return _SECRET_VALUE.sub(lambda match: redact(match.group(0)), value)
    return value


def _text(value: str | None) -> str | None:
    """Envelope text as PostgreSQL can store it: no NUL characters, bounded length.

    Cleaned here, per event, so one hostile value cannot fail a whole batch when it is written.
    """
    if value is None:
        return None
    cleaned = value.replace("\x00", "\ufffd")
    return cleaned if len(cleaned) <= MAX_FIELD_LENGTH else cleaned[: MAX_FIELD_LENGTH - 1] + "…"


def draft_from_event(event: Event) -> EntryDraft:
    """The entry recording ``event``: actor, action, target and outcome from the envelope."""
    source = _text(event.source) or ""
    return EntryDraft(
        log=event.tenant_id or encoding.PLATFORM_LOG,
        event_id=event.id,
        occurred_at=event.time,
        actor=_text(event.actor) or f"system:{source}",
        action=_text(event.type) or "",
        target=_text(event.subject),
        outcome=outcome_of(event.type, event.data),
        source=source,
        source_address=_text(event.source_address),
        request_id=_text(event.request_id),
        payload=encoding.canonical_json(redact_secrets(encoding.json_safe(event.data))).decode(),
    )


def lock_key(log: uuid.UUID) -> int:
    """The transaction advisory lock that makes one writer (append or signing) per log at a time."""
    return int.from_bytes(hashlib.sha256(b"nexora.audit.log:" + log.bytes).digest()[:8], "big", signed=True)


async def lock_log(session: AsyncSession, log: uuid.UUID) -> None:
    """Scope the session to ``log`` and hold its writer lock until the transaction ends."""
    await set_tenant(session, log)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(log)})


_STATE = text(
    """
    SELECT (SELECT coalesce(max(seq) + 1, 0) FROM audit.entry WHERE tenant_id = :log) AS size,
           ARRAY(SELECT event_id FROM audit.entry WHERE tenant_id = :log AND event_id = ANY(:ids)) AS seen
    """
)
_INSERT_ENTRIES = text(
    """
    INSERT INTO audit.entry (tenant_id, seq, event_id, occurred_at, recorded_at, actor, action, target, outcome,
                             source, source_address, request_id, payload, leaf_hash)
    SELECT CAST(:log AS uuid), u.seq, u.event_id, u.occurred_at, CAST(:recorded_at AS timestamptz), u.actor, u.action,
           u.target, u.outcome, u.source, u.source_address, u.request_id, u.payload, u.leaf_hash
    FROM unnest(CAST(:seq AS bigint[]), CAST(:event_id AS uuid[]), CAST(:occurred_at AS timestamptz[]),
                CAST(:actor AS text[]), CAST(:action AS text[]), CAST(:target AS text[]), CAST(:outcome AS text[]),
                CAST(:source AS text[]), CAST(:source_address AS text[]), CAST(:request_id AS text[]),
                CAST(:payload AS text[]), CAST(:leaf_hash AS bytea[]))
         AS u(seq, event_id, occurred_at, actor, action, target, outcome, source, source_address, request_id,
              payload, leaf_hash)
    """
)
_INSERT_NODES = text(
    """
    INSERT INTO audit.node (tenant_id, level, idx, hash)
    SELECT CAST(:log AS uuid), u.level, u.idx, u.hash
    FROM unnest(CAST(:level AS smallint[]), CAST(:idx AS bigint[]), CAST(:hash AS bytea[])) AS u(level, idx, hash)
    """
)


def entry_document(draft: EntryDraft, seq: int, recorded_at: str) -> dict[str, Any]:
    """The entry's leaf fields (what :func:`nexora.audit.encoding.leaf_document` hashes)."""
    return {
        "log": str(draft.log),
        "seq": seq,
        "event_id": str(draft.event_id),
        "occurred_at": encoding.timestamp(draft.occurred_at),
        "recorded_at": recorded_at,
        "actor": draft.actor,
        "action": draft.action,
        "target": draft.target,
        "outcome": draft.outcome,
        "source": draft.source,
        "source_address": draft.source_address,
        "request_id": draft.request_id,
        "payload": draft.payload,
    }


async def append(
    session: AsyncSession, log: uuid.UUID, drafts: Sequence[EntryDraft], *, publish: bool = True
) -> list[dict[str, Any]]:
    """Append ``drafts`` to ``log`` in order, as its next sequence numbers; publish each to ``audit.entry``.

    Guarantees: one writer per log at a time (transaction advisory lock); a draft whose event is already
    in the log is skipped, so redelivery never duplicates an entry; every entry's leaf hash and every
    perfect subtree it closes are written in the caller's transaction. Returns the appended entries'
    documents with their hex leaf hashes. Leaves the session scoped to ``log``. ``publish=False`` is for
    bulk loads (imports, benchmarks) that must not flood the SIEM stream.
    """
    if not drafts:
        return []
    await lock_log(session, log)
    state = (await session.execute(_STATE, {"log": log, "ids": [d.event_id for d in drafts]})).one()
    size, seen = int(state.size), set(state.seen)
    fresh: list[EntryDraft] = []
    for draft in drafts:
        if draft.event_id not in seen:
            seen.add(draft.event_id)
            fresh.append(draft)
    if not fresh:
        return []
    shape = merkle.subtrees(0, size)
    known = await subtree_hashes(session, log, shape)
    frontier = merkle.Frontier(size, [known[s] for s in shape])
    recorded_at = utcnow()
    recorded_text = encoding.timestamp(recorded_at)
    documents: list[dict[str, Any]] = []
    leaves: list[bytes] = []
    nodes: list[tuple[int, int, bytes]] = []
    for offset, draft in enumerate(fresh):
        document = entry_document(draft, size + offset, recorded_text)
        leaf = merkle.leaf_hash(encoding.leaf_document(document))
        nodes.extend(frontier.append(leaf))
        document["leaf_hash"] = leaf.hex()
        documents.append(document)
        leaves.append(leaf)
    await session.execute(
        _INSERT_ENTRIES,
        {
            "log": log,
            "recorded_at": recorded_at,
            "seq": [d["seq"] for d in documents],
            "event_id": [d.event_id for d in fresh],
            "occurred_at": [d.occurred_at for d in fresh],
            "actor": [d.actor for d in fresh],
            "action": [d.action for d in fresh],
            "target": [d.target for d in fresh],
            "outcome": [d.outcome for d in fresh],
            "source": [d.source for d in fresh],
            "source_address": [d.source_address for d in fresh],
            "request_id": [d.request_id for d in fresh],
            "payload": [d.payload for d in fresh],
            "leaf_hash": leaves,
        },
    )
    if nodes:
        await session.execute(
            _INSERT_NODES,
            {"log": log, "level": [n[0] for n in nodes], "idx": [n[1] for n in nodes], "hash": [n[2] for n in nodes]},
        )
    if publish:
        await _publish(session, log, documents)
    return documents


async def _publish(session: AsyncSession, log: uuid.UUID, documents: list[dict[str, Any]]) -> None:
    tenant = None if log == encoding.PLATFORM_LOG else log
    events = [Event(type=ENTRY_EVENT, data=doc, source=SOURCE, tenant_id=tenant, actor=ACTOR) for doc in documents]
    await write_outbox(session, events)


# ---- staging by the consumer -----------------------------------------------------------------------


async def record(session: AsyncSession, event: Event) -> None:
    """Stage ``event`` for its log; everything staged in ``session`` is appended when it commits.

    The entry is built (and refused, if the event cannot be recorded) here, so a bad event fails on
    its own and the bus retries or dead-letters just that event.
    """
    draft = draft_from_event(event)
    staged: list[EntryDraft] | None = session.info.get(_STAGED)
    if staged is None:
        staged = session.info[_STAGED] = []
        orm_event.listen(session.sync_session, "before_commit", partial(_append_staged, session))
    staged.append(draft)


def _append_staged(session: AsyncSession, sync_session: Session) -> None:
    # before_commit also fires when a savepoint is released; only the outermost commit appends.
    if sync_session.get_nested_transaction() is not None:
        return
    staged: list[EntryDraft] = session.info.get(_STAGED, [])
    drafts, staged[:] = list(staged), []
    if drafts:
        await_only(_append_grouped(session, drafts))


async def _append_grouped(session: AsyncSession, drafts: list[EntryDraft]) -> None:
    by_log: dict[uuid.UUID, list[EntryDraft]] = {}
    for draft in drafts:
        by_log.setdefault(draft.log, []).append(draft)
    for log, group in by_log.items():
        await append(session, log, group)
    await set_tenant(session, None)
