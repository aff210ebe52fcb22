"""Checking one log: entries in stored order against their leaf hashes, signed heads and keys.

Problems carry a kind and the first sequence number they put in doubt (see the package docstring).
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from nexora.audit import encoding, merkle

MAX_REPORTED_PROBLEMS = 100
DISPLACEMENT_WINDOW = 8  # how far away a misplaced entry's original sequence number is searched


@dataclass(frozen=True)
class Problem:
    kind: str
    seq: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    public_key: bytes
    created_at: str | None = None


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: str
    key_id: str
    signature: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    proof: tuple[bytes, ...]


@dataclass
class Report:
    log: str
    entries: int
    heads: int
    signed_size: int
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        numbered = [p.seq for p in self.problems if p.seq is not None]
        return min(numbered) if numbered else None

    @property
    def unsigned_entries(self) -> int:
        return max(self.entries - self.signed_size, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "log": self.log,
            "entries": self.entries,
            "heads": self.heads,
            "signed_size": self.signed_size,
            "unsigned_entries": self.unsigned_entries,
            "first_bad_seq": self.first_bad_seq,
            "problems": [p.to_dict() for p in self.problems[:MAX_REPORTED_PROBLEMS]],
            "problem_count": len(self.problems),
            "warnings": self.warnings,
        }


def signature_valid(key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


class LogVerifier:
    """Streams a log's entries (in stored order) and checks them against its keys and signed heads.

    ``trusted_keys`` (key id -> raw public key) pins the keys a head may be signed with; without it
    the keys handed in are believed, which a verifier of a bundle should say out loud.
    ``rejected_keys`` (key id -> problem) are keys found bad elsewhere (the live check of sealed keys).
    """

    def __init__(
        self,
        log: str,
        keys: Sequence[PublicKey],
        heads: Sequence[TreeHead],
        proofs: Sequence[ConsistencyProof] = (),
        *,
        trusted_keys: Mapping[str, bytes] | None = None,
        rejected_keys: Mapping[str, Problem] | None = None,
    ) -> None:
        self.log = log
        self.heads = list(heads)
        self.proofs = list(proofs)
        self.warnings: list[str] = []
        self.problems = list((rejected_keys or {}).values())
        self._bad_keys = {key_id: problem.kind for key_id, problem in (rejected_keys or {}).items()}
        self._keys = self._check_keys(keys, trusted_keys)
        self._head_sizes = {h.tree_size for h in self.heads}
        self._roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in self._head_sizes else {}
        self._frontier = merkle.Frontier()
        self._seqs: array[int] = array("q")
        self._moved: list[tuple[int, int]] = []  # (position, original seq) of entries found out of place
        self._modified: list[int] = []
        self._flagged: list[int] = []  # positions whose leaf does not match, in order
        self._break: int | None = None  # first position whose sequence number is not its position
        self._content: list[Problem] | None = None

    # ---- keys and heads -------------------------------------------------------------------------

    def _check_keys(self, keys: Sequence[PublicKey], trusted: Mapping[str, bytes] | None) -> dict[str, bytes]:
        usable: dict[str, bytes] = {}
        for key in keys:
            if key.key_id in self._bad_keys:
                continue
            if encoding.key_id(key.public_key) != key.key_id:
                self._bad_keys[key.key_id] = "swapped_key"
                self.problems.append(
                    Problem("swapped_key", None, f"published key '{key.key_id}' does not match its id: it was replaced")
                )
                continue
            if trusted is not None and trusted.get(key.key_id) != key.public_key:
                self._bad_keys[key.key_id] = "unknown_key"
                self.problems.append(
                    Problem("unknown_key", None, f"key '{key.key_id}' is not among the trusted (pinned) keys")
                )
                continue
            usable[key.key_id] = key.public_key
        if trusted is None:
            self.warnings.append("keys are not pinned: the published keys were believed (pass trusted keys)")
        return usable

    def _head_valid(self, head: TreeHead) -> Problem | None:
        key = self._keys.get(head.key_id)
        where = f"tree head at size {head.tree_size} signed {head.timestamp}"
        if key is None:
            if self._bad_keys.get(head.key_id) == "swapped_key":
                return Problem("swapped_key", None, f"{where} is signed by key '{head.key_id}', which was replaced")
            return Problem("unknown_key", None, f"{where} is signed by an unknown key '{head.key_id}'")
        message = encoding.tree_head_message(self.log, head.tree_size, head.root_hash, head.timestamp, head.key_id)
        if not signature_valid(key, head.signature, message):
            return Problem("forged_head", None, f"{where} has a signature that does not verify: it was forged")
        return None

    # ---- entries --------------------------------------------------------------------------------

    def add(self, entry: Mapping[str, Any], stored_leaf: bytes) -> None:
        """Feed the next entry as stored (its fields and the leaf hash recorded with it)."""
        position = len(self._seqs)
        seq = int(entry["seq"])
        self._seqs.append(seq)
        if seq != position and self._break is None:
            self._break = position
        leaf = merkle.leaf_hash(encoding.leaf_document(entry))
        if leaf != stored_leaf:
            self._flagged.append(position)
            origin = self._original_seq(entry, stored_leaf)
            if origin is None:
                self._modified.append(seq)
            else:
                self._moved.append((position, origin))
        self._frontier.append(leaf)
        if self._frontier.size in self._head_sizes:
            self._roots[self._frontier.size] = self._frontier.root()

    def explains(self, start: int, end: int) -> bool:
        """Whether a leaf-level or sequence problem already lies in positions ``[start, end)``."""
        if self._break is not None and end > self._break:
            return True
        index = bisect.bisect_left(self._flagged, start)
        if index < len(self._flagged) and self._flagged[index] < end:
            return True
        return any(p.seq is not None and start <= p.seq < end for p in self._content_problems())

    def _original_seq(self, entry: Mapping[str, Any], stored_leaf: bytes) -> int | None:
        seq = int(entry["seq"])
        for distance in range(1, DISPLACEMENT_WINDOW + 1):
            for candidate in (seq - distance, seq + distance):
                if candidate < 0:
                    continue
                moved = dict(entry, seq=candidate)
                if merkle.leaf_hash(encoding.leaf_document(moved)) == stored_leaf:
                    return candidate
        return None

    def _structure_problems(self) -> list[Problem]:
        seqs = self._seqs
        count = len(seqs)
        if seqs == array("q", range(count)):
            return []
        present = Counter(seqs)
        duplicates = sorted(s for s, n in present.items() if n > 1)
        missing = sorted(set(range(count)) - set(present))
        if duplicates:
            return [Problem("inserted", duplicates[0], f"sequence number {duplicates[0]} appears more than once")]
        if missing:
            return [Problem("deleted", missing[0], f"entry {missing[0]} is missing: it was deleted")]
        first = next(i for i in range(count) if seqs[i] != i)
        return [Problem("reordered", first, f"entries are out of order from sequence number {first}")]

    def _content_problems(self) -> list[Problem]:
        if self._content is not None:
            return self._content
        problems = [
            Problem("modified", seq, f"entry {seq} does not match its leaf hash: its fields were changed")
            for seq in self._modified
        ]
        runs: list[list[tuple[int, int]]] = []
        for position, origin in self._moved:
            if runs and runs[-1][-1][0] == position - 1:
                runs[-1].append((position, origin))
            else:
                runs.append([(position, origin)])
        for run in runs:
            shifts = {position - origin for position, origin in run}
            start = run[0][0]
            if all(shift > 0 for shift in shifts):
                first = max(start - max(shifts), 0)
                problems.append(
                    Problem(
                        "inserted",
                        first,
                        f"entries from {start} on were recorded at lower sequence numbers: "
                        f"{max(shifts)} entr(y/ies) were inserted at {first}",
                    )
                )
            elif all(shift < 0 for shift in shifts):
                problems.append(
                    Problem(
                        "deleted",
                        start,
                        f"entries from {start} on were recorded at higher sequence numbers: "
                        f"{-min(shifts)} entr(y/ies) were deleted at {start}",
                    )
                )
            else:
                problems.append(
                    Problem("reordered", start, f"entries {start}..{run[-1][0]} were moved: the log was reordered")
                )
        self._content = problems
        return problems

    # ---- the verdict ----------------------------------------------------------------------------

    def finish(self, extra: Sequence[Problem] = ()) -> Report:
        """Check every head against the rebuilt tree and each other; return the report.

        ``extra`` are problems found alongside (the live check of stored subtrees); a head mismatch
        they already explain is not reported again.
        """
        count = len(self._seqs)
        problems = [*self.problems, *self._structure_problems(), *self._content_problems(), *extra]
        valid: list[TreeHead] = []
        invalid: list[tuple[TreeHead, Problem]] = []
        for head in self.heads:
            problem = self._head_valid(head)
            if problem is None:
                valid.append(head)
            else:
                invalid.append((head, problem))
        valid.sort(key=lambda h: (h.tree_size, h.timestamp))
        for head, problem in invalid:
            below = [h.tree_size for h in valid if h.tree_size < head.tree_size]
            problems.append(replace(problem, seq=max(below, default=0)))
        problems.extend(self._head_problems(valid, count, problems))
        problems.extend(self._fork_problems(valid))
        signed = max((h.tree_size for h in valid if h.tree_size <= count), default=0)
        if not valid and count:
            self.warnings.append("no valid signed tree head: nothing vouches for these entries yet")
        problems.sort(key=lambda p: (p.seq is None, p.seq if p.seq is not None else 0))
        return Report(
            log=self.log,
            entries=count,
            heads=len(self.heads),
            signed_size=signed,
            problems=problems,
            warnings=self.warnings,
        )

    def _head_problems(self, valid: list[TreeHead], count: int, known: list[Problem]) -> list[Problem]:
        problems: list[Problem] = []
        matched = 0  # the largest head size whose root the entries reproduce
        for head in valid:
            if head.tree_size > count:
                problems.append(
                    Problem(
                        "truncated",
                        count,
                        f"a valid head signed {head.timestamp} covers {head.tree_size} entries but the log "
                        f"holds {count}: entries from {count} on were removed",
                    )
                )
                continue
            if self._roots.get(head.tree_size) == head.root_hash:
                matched = max(matched, head.tree_size)
                continue
            explained = any(p.seq is not None and matched <= p.seq < head.tree_size for p in known + problems)
            if not explained:
                problems.append(
                    Problem(
                        "modified",
                        matched,
                        f"entries {matched}..{head.tree_size - 1} do not give the root signed at size "
                        f"{head.tree_size}: an entry in this range was changed, added or removed",
                    )
                )
        return problems

    def _fork_problems(self, valid: list[TreeHead]) -> list[Problem]:
        problems: list[Problem] = []
        by_size: dict[int, TreeHead] = {}
        for head in valid:
            seen = by_size.setdefault(head.tree_size, head)
            if seen.root_hash != head.root_hash:
                problems.append(
                    Problem(
                        "fork",
                        self._lower_bound(valid, head.tree_size),
                        f"two valid heads at size {head.tree_size} have different roots: the log forked",
                    )
                )
        sizes = sorted(by_size)
        provided = {(p.first, p.second): p for p in self.proofs}
        for first, second in itertools.pairwise(sizes):
            if first == 0:
                continue
            proof = provided.get((first, second))
            if proof is None:
                self.warnings.append(f"no consistency proof between heads at sizes {first} and {second}")
                continue
            if not merkle.verify_consistency(
                first, second, by_size[first].root_hash, by_size[second].root_hash, proof.proof
            ):
                problems.append(
                    Problem(
                        "fork",
                        self._lower_bound(valid, first + 1),
                        f"the head at size {second} is not an extension of the head at size {first}: "
                        "the log was rewritten between them (fork)",
                    )
                )
        return problems

    def _lower_bound(self, valid: list[TreeHead], size: int) -> int:
        """The largest valid head size below ``size`` whose root the entries reproduce (else 0): the
        entries before it are intact, so a problem that ``size`` reveals starts there at the earliest."""
        return max(
            (h.tree_size for h in valid if h.tree_size < size and self._roots.get(h.tree_size) == h.root_hash),
            default=0,
        )
