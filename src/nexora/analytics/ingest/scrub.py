"""Secret-looking values are replaced before a record is kept, so no stored event carries a raw secret.

A key looks secret when, lower-cased, it contains password, passwd, passphrase, secret, token, private_key,
privatekey, private-key, credential, apikey, api_key or api-key, or ends in authorization or cookie (headers:
``Authorization``, ``Set-Cookie``; ``authorization.k8s.io/decision`` is no secret): ``sessionToken``,
``secretAccessKey``, ``x-amz-security-token``, ``DB_PASSWORD``. The value of such a key is replaced by
``"[redacted]"``; when it is an object or an array, every string and number inside it is replaced, except under
identifier keys. Identifier keys are kept wherever they are: ``accessKeyId``, ``hashed_token``,
``programmatic_access_type``, ``sessionCredentialFromConsole``, and names ending in id, ids, arn, arns, name, type,
expiration or scopes (``token_id``, ``secretId``, ``tokenType``, ``credential-id``). Booleans and nulls are never
secrets and are kept.

The walk visits dicts and lists only, decides each distinct key once (a memo), and copies a dict only when one of
its values changes: a record with nothing to redact comes back as the same object. A parser whose source has a
documented schema names the top-level fields that never carry request or response data (``trusted``); those are
kept as the source wrote them and only the rest is walked, which keeps scrubbing a CloudTrail record to a couple
of microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"

_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "private-key",
    "credential",
    "apikey",
    "api_key",
    "api-key",
)
_SECRET_ENDINGS = ("authorization", "cookie")  # headers; "authorization.k8s.io/decision" is no secret
_IDENTIFIERS = frozenset({"accesskeyid", "hashed_token", "programmatic_access_type", "sessioncredentialfromconsole"})
_IDENTIFIER_ENDINGS = ("id", "ids", "arn", "arns", "name", "type", "expiration", "scopes")

_PLAIN, _SECRET, _IDENTIFIER = 0, 1, 2
_verdicts: dict[str, int] = {}
_MAX_VERDICTS = 65536  # keys are bounded by the vocabulary of the sources; past this, decide without remembering


def _classify(key: str) -> int:
    folded = key.lower()
    if folded in _IDENTIFIERS or folded.endswith(_IDENTIFIER_ENDINGS):
        return _IDENTIFIER
    if folded.endswith(_SECRET_ENDINGS) or any(word in folded for word in _SECRET_WORDS):
        return _SECRET
    return _PLAIN


def _verdict(key: str) -> int:
    verdict = _verdicts.get(key)
    if verdict is None:
        verdict = _classify(key)
        if len(_verdicts) < _MAX_VERDICTS:
            _verdicts[key] = verdict
    return verdict


def is_secret_key(key: str) -> bool:
    return _verdict(key) == _SECRET


def scrub(record: dict[str, Any], trusted: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``record`` with secret-looking values redacted; the same object when there is nothing to redact.

    Top-level keys in ``trusted`` are kept as they are, without a look inside.
    """
    return _scrub_dict(record, False, record.keys() - trusted if trusted else None)


def _scrub_dict(value: dict[str, Any], secret: bool, keys: Iterable[str] | None = None) -> dict[str, Any]:
    changed: dict[str, Any] | None = None
    verdicts = _verdicts
    for key, item in value.items() if keys is None else ((key, value[key]) for key in keys):
        kind = type(item)
        if kind is dict or kind is list:
            if not item:
                continue
            verdict = verdicts.get(key)
            inner_secret = secret or (verdict if verdict is not None else _verdict(key)) == _SECRET
            replacement: Any = _scrub_dict(item, inner_secret) if kind is dict else _scrub_list(item, inner_secret)
            if replacement is item:
                continue
        elif item is None or kind is bool:
            continue
        else:
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = _verdict(key)
            if verdict == _IDENTIFIER or (verdict == _PLAIN and not secret):
                continue
            replacement = REDACTED
        if changed is None:
            changed = dict(value)
        changed[key] = replacement
    return value if changed is None else changed


def _scrub_list(value: list[Any], secret: bool) -> list[Any]:
    changed: list[Any] | None = None
    for index, item in enumerate(value):
        kind = type(item)
        if kind is dict:
            replacement: Any = _scrub_dict(item, secret)
        elif kind is list:
            replacement = _scrub_list(item, secret)
        elif secret and item is not None and kind is not bool:
            replacement = REDACTED
        else:
            continue
        if replacement is item:
            continue
        if changed is None:
            changed = list(value)
        changed[index] = replacement
    return value if changed is None else changed
