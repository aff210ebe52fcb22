"""Live verification (``--verify``): ask the provider whether a found credential works.

Every check has a timeout and a three-way answer: valid, invalid, or unknown when the provider throttles,
blocks or errors. Endpoints are configurable so tests (and air-gapped users) can point them elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from nexora.scanner.model import Finding, Verification

Check = Callable[[str, str, float], tuple[Verification, str]]


@dataclass(slots=True)
class VerifyOptions:
    """Base URLs per verifier name (``aws``, ``github``…) and the per-request timeout in seconds."""

    endpoints: dict[str, str] = field(default_factory=dict)
    timeout: float = 5.0


def verify_findings(
    findings: Sequence[Finding], options: VerifyOptions, verifiers: Mapping[str, str] | None = None
) -> list[Finding]:
    """The findings with verification results attached; findings without a verifier are unchanged.

    ``verifiers`` maps rule ids to verifier names (default: the built-in rules'). Each distinct
    credential is checked once.
    """
    from nexora.scanner.ruleset import load_rules
    from nexora.scanner.verify import aws, http

    if verifiers is None:
        verifiers = {rule.id: rule.verifier for rule in load_rules() if rule.verifier}
    results: dict[tuple[str, str], tuple[Verification, str]] = {}
    paired = aws.pair_keys(findings, verifiers)
    verified: list[Finding] = []
    for finding in findings:
        name = verifiers.get(finding.rule_id)
        if name is None:
            verified.append(finding)
            continue
        if name == "aws":
            pair = paired.get(id(finding))
            key = ("aws", "\0".join(pair) if pair else f"unpaired\0{finding.secret}")
            if key not in results:
                results[key] = aws.check(pair, options.endpoints.get("aws"), options.timeout)
        else:
            key = (name, finding.secret)
            if key not in results:
                results[key] = http.check(name, finding.secret, options.endpoints.get(name), options.timeout)
        verified.append(finding.with_verification(*results[key]))
    return verified
