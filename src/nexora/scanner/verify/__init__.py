"""Live verification (``--verify``): ask the provider whether a found credential works, and whose it is.

Every check has a timeout and a three-way answer: valid, invalid, or unknown when the provider throttles,
blocks or errors; a valid answer carries the identity the provider reports for the key (user, e-mail,
account, organisation, scopes…). Requests go through the platform's outbound network guard, so no rule
and no ``--verify-endpoint`` reaches an internal or metadata address unless its network is allowed
explicitly (:attr:`VerifyOptions.allowed_networks`). Each provider sees at most
:attr:`VerifyOptions.concurrency` requests at a time, started at least :attr:`VerifyOptions.min_interval`
seconds apart; a 429 is reported, never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from nexora.core.outbound import Network
from nexora.scanner.model import Finding
from nexora.scanner.verify import aws
from nexora.scanner.verify.http import HTTPVerifier
from nexora.scanner.verify.limits import Limits
from nexora.scanner.verify.outcome import Outcome

__all__ = ["Outcome", "VerifyOptions", "allowed_networks", "verifier_names", "verify_findings"]


@dataclass(slots=True)
class VerifyOptions:
    """Base URL overrides per verifier name (``aws``, ``github``…), the per-request timeout in seconds, the
    networks the guard lets through (none by default: internal addresses are refused), and the politeness
    limits per provider."""

    endpoints: dict[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    allowed_networks: tuple[Network, ...] = ()
    concurrency: int = 2
    min_interval: float = 0.2
    workers: int = 8


def allowed_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings as networks; raises ``ValueError`` naming the first that is not one."""
    import ipaddress

    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not a network in CIDR notation (e.g. 127.0.0.0/8)") from None
    return tuple(networks)


def verifier_names() -> frozenset[str]:
    """Every verifier a rule may name: the HTTP providers and ``aws``."""
    from nexora.scanner.verify.providers import PROVIDERS

    return frozenset(PROVIDERS) | {"aws"}


def verify_findings(
    findings: Sequence[Finding], options: VerifyOptions, verifiers: Mapping[str, str] | None = None
) -> list[Finding]:
    """The findings with verification results attached; findings without a verifier are unchanged.

    ``verifiers`` maps rule ids to verifier names (default: the built-in rules'). Each distinct
    credential is checked once; checks of different providers run in parallel.
    """
    from nexora.scanner.ruleset import load_rules

    if verifiers is None:
        verifiers = {rule.id: rule.verifier for rule in load_rules() if rule.verifier}
    if not any(finding.rule_id in verifiers for finding in findings):
        return list(findings)
    limits = Limits(options.concurrency, options.min_interval)
    paired = aws.pair_keys(findings, verifiers)
    keys: dict[int, tuple[str, str]] = {}
    jobs: dict[tuple[str, str], Callable[[], Outcome]] = {}
    with HTTPVerifier(timeout=options.timeout, allowed_networks=options.allowed_networks, limits=limits) as http:
        for finding in findings:
            name = verifiers.get(finding.rule_id)
            if name is None:
                continue
            if name == "aws":
                pair = paired.get(id(finding))
                key = ("aws", "\0".join(pair) if pair else f"unpaired\0{finding.secret}")
                if key not in jobs:
                    jobs[key] = _aws_job(pair, options, http, limits)
            else:
                key = (name, finding.secret)
                if key not in jobs:
                    jobs[key] = _http_job(http, name, finding.secret, options.endpoints.get(name))
            keys[id(finding)] = key
        results = _run(jobs, options.workers)
    return [
        finding.with_verification(outcome.result, outcome.detail, outcome.identity or None)
        if (outcome := results.get(keys.get(id(finding), ("", "")))) is not None
        else finding
        for finding in findings
    ]


def _http_job(http: HTTPVerifier, name: str, secret: str, endpoint: str | None) -> Callable[[], Outcome]:
    return lambda: http.check(name, secret, endpoint)


def _aws_job(
    pair: tuple[str, str] | None, options: VerifyOptions, http: HTTPVerifier, limits: Limits
) -> Callable[[], Outcome]:
    def job() -> Outcome:
        if pair is None:
            return aws.check(None, None, options.timeout)
        with limits("aws").slot():
            return aws.check(pair, options.endpoints.get("aws"), options.timeout, http.guard)

    return job


def _run(jobs: Mapping[tuple[str, str], Callable[[], Outcome]], workers: int) -> dict[tuple[str, str], Outcome]:
    """Run every job; one that raises counts as unknown (a check never fails the scan)."""

    def safe(job: Callable[[], Outcome]) -> Outcome:
        try:
            return job()
        except Exception as error:  # verification is best effort by contract
            return Outcome.unknown(type(error).__name__)

    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix="nexora-verify") as pool:
        futures = {key: pool.submit(safe, job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}
