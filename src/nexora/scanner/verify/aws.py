"""AWS verification: STS GetCallerIdentity with an access key id paired to a nearby secret key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nexora.scanner.model import Finding, Verification

_INVALID_CODES = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure"})


def pair_keys(findings: Sequence[Finding], verifiers: Mapping[str, str]) -> dict[int, tuple[str, str]]:
    """For each AWS finding (by ``id()``), the (key id, secret key) pair: nearest lines in the same file."""
    aws = [f for f in findings if verifiers.get(f.rule_id) == "aws"]
    ids = [f for f in aws if f.rule_id == "aws-access-key-id"]
    secrets = [f for f in aws if f.rule_id == "aws-secret-access-key"]
    pairs: dict[int, tuple[str, str]] = {}
    for key in ids:
        nearby = [s for s in secrets if s.path == key.path]
        if nearby:
            secret = min(nearby, key=lambda s: abs(s.line - key.line))
            pairs[id(key)] = (key.secret, secret.secret)
            pairs.setdefault(id(secret), (key.secret, secret.secret))
    return pairs


def check(pair: tuple[str, str] | None, endpoint: str | None, timeout: float) -> tuple[Verification, str]:
    """Call STS GetCallerIdentity; unknown when no secret key was found or the call could not complete."""
    if pair is None:
        return Verification.UNKNOWN, "no matching access key id / secret key pair in the same file"
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    key_id, secret = pair
    client = boto3.client(
        "sts",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        endpoint_url=endpoint,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
    )
    try:
        identity = client.get_caller_identity()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _INVALID_CODES:
            return Verification.INVALID, code
        return Verification.UNKNOWN, code or "error"
    except BotoCoreError as error:
        return Verification.UNKNOWN, type(error).__name__
    return Verification.VALID, str(identity.get("Arn", ""))
