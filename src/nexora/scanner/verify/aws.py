"""AWS verification: STS GetCallerIdentity with an access key id paired to a nearby secret key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nexora.core.outbound import DestinationRefused, OutboundGuard, guard_botocore_client
from nexora.scanner.model import Finding, Verification
from nexora.scanner.verify.outcome import Outcome, describe, identity_from

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


def check(
    pair: tuple[str, str] | None, endpoint: str | None, timeout: float, guard: OutboundGuard | None = None
) -> Outcome:
    """Call STS GetCallerIdentity through the outbound guard; unknown when no secret key was found or the call
    could not complete. The identity is the caller's ARN, account and user id."""
    if pair is None:
        return Outcome.unknown("no matching access key id / secret key pair in the same file")
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
    guard_botocore_client(client, guard or OutboundGuard())
    try:
        answer = client.get_caller_identity()
    except DestinationRefused as error:
        reason = error.message.split(";", 1)[0]
        outcome = Outcome.unknown(
            f"refused by the outbound network guard: {reason} (allow it with --verify-allow-network)"
        )
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        outcome = Outcome.invalid(code) if code in _INVALID_CODES else Outcome.unknown(code or "error")
    except BotoCoreError as error:
        outcome = Outcome.unknown(type(error).__name__)
    except ValueError as error:  # a malformed endpoint URL
        outcome = Outcome.unknown(type(error).__name__)
    else:
        identity = identity_from(
            (key, str(answer.get(field) or ""))
            for key, field in (("arn", "Arn"), ("account", "Account"), ("user_id", "UserId"))
        )
        outcome = Outcome(Verification.VALID, str(answer.get("Arn") or describe(identity) or "valid"), identity)
    # Both halves are secrets of the finding: neither may reach a report.
    return outcome.scrubbed(secret).scrubbed(key_id)
