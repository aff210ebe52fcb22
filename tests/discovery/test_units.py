"""Pure parts: the SSRF guard, retries and circuit breaker, IAM policy evaluation, posture scoring."""

from __future__ import annotations

import dataclasses
import ipaddress
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from botocore.exceptions import ClientError

from nexora.core.config import DiscoverySettings, Settings
from nexora.core.errors import UpstreamUnavailable
from nexora.core.resilience import (
    CircuitOpen,
    DestinationRefused,
    Resilience,
    RetryPolicy,
    Throttled,
    check_destination,
    parse_networks,
)
from nexora.discovery.connectors.aws.policies import evaluate, trust_statements
from nexora.discovery.connectors.base import CollectContext, Read, answered_with_client_error
from nexora.discovery.posture import Node, Thresholds
from nexora.discovery.posture import evaluate as assess
from nexora.discovery.records import NHI_COLUMNS, Collection, NhiRecord, infer_environment
from nexora.discovery.schemas import NhiOut
from nexora.discovery.service import EXPORT_COLUMNS, LIST_COLUMNS


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
    ],
)
def test_private_destinations_are_refused_unless_allow_listed(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url, [])
    check_destination(url, parse_networks(["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "::1/128"]))


def test_public_addresses_pass_and_odd_schemes_do_not() -> None:
    check_destination("https://8.8.8.8/api", [])
    with pytest.raises(Exception, match="http"):
        check_destination("file:///etc/passwd", [ipaddress.ip_network("0.0.0.0/0")])


def test_throttled_calls_are_retried_with_growing_jittered_delays() -> None:
    delays: list[float] = []
    resilience = Resilience(RetryPolicy(attempts=4, backoff_seconds=1.0, backoff_max_seconds=10), sleep=delays.append)
    answers = iter([Throttled("slow down"), Throttled("slow down"), "ok"])

    def call() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert resilience.call("api", call, classify=lambda e: e) == "ok"
    assert len(delays) == 2
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    with pytest.raises(UpstreamUnavailable, match="kept throttling"):
        resilience.call("api", lambda: (_ for _ in ()).throw(Throttled("x")), classify=lambda e: e)


def test_retry_after_lengthens_the_wait_up_to_the_longest_delay() -> None:
    delays: list[float] = []
    resilience = Resilience(RetryPolicy(attempts=3, backoff_seconds=0.1, backoff_max_seconds=5), sleep=delays.append)
    answers = iter([Throttled("slow down", retry_after=3), Throttled("slow down", retry_after=60), "ok"])

    def call() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert resilience.call("api", call, classify=lambda e: e) == "ok"
    assert delays == [3, 5]


def test_calls_to_one_endpoint_run_at_once_through_its_breaker() -> None:
    resilience = Resilience()
    together = threading.Barrier(4, timeout=5)  # broken (an error) unless all four calls are running at once
    answers: list[object] = []

    def call() -> None:
        answers.append(resilience.call("api", lambda: together.wait() >= 0, classify=lambda e: e))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [True] * 4


def test_the_circuit_opens_after_repeated_failures_and_half_opens_later() -> None:
    resilience = Resilience(RetryPolicy(attempts=1), failure_threshold=2, reset_seconds=0.2, sleep=lambda _: None)
    calls: list[str] = []

    def unreachable() -> None:
        calls.append("unreachable")
        raise httpx.ConnectError("refused")

    for _ in range(2):
        with pytest.raises(httpx.ConnectError):
            resilience.call("github", unreachable, classify=lambda e: e)
    with pytest.raises(CircuitOpen):
        resilience.call("github", unreachable, classify=lambda e: e)
    assert calls == ["unreachable", "unreachable"]
    assert resilience.is_open("github")
    deadline = time.monotonic() + 5
    while True:  # until the reset time has passed: then one trial call goes through and closes the circuit
        try:
            answer = resilience.call("github", lambda: "ok", classify=lambda e: e)
            break
        except CircuitOpen:
            assert time.monotonic() < deadline, "the circuit never half-opened"
    assert answer == "ok"
    assert not resilience.is_open("github")


def test_policy_evaluation_finds_admin_wildcards_and_escalation() -> None:
    admin = evaluate([("all", {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})])
    assert (admin.privilege_level, admin.admin_sources) == ("admin", ["all"])
    iam = evaluate([("iam", '{"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}')])
    assert iam.privilege_level == "high"
    assert "iam:PassRole" in iam.escalation_actions
    assert iam.wildcard_actions == ["iam:*"]
    read = evaluate([("read", {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]})])
    assert read.privilege_level == "low"
    denied = evaluate([("deny", {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})])
    assert denied.privilege_level == "none"


def test_trust_policies_are_normalised() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "123456789012"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "x"}},
            },
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
        ]
    }
    account, anyone = trust_statements(document)
    assert (account["kind"], account["account"], account["external_id"]) == ("account", "123456789012", True)
    assert anyone["kind"] == "any"


def test_environment_inference_prefers_tags_then_names() -> None:
    assert infer_environment({"Environment": "Production"}, "dev-thing") == "prod"
    assert infer_environment(None, "billing-staging-db") == "staging"
    assert infer_environment(None, "payments") == "unknown"


def test_risk_scores_grow_with_severity_and_production() -> None:
    now = datetime.now(UTC)

    def node(environment: str, privilege: str) -> Node:
        return Node(
            uuid.uuid4(),
            "aws",
            "access_key",
            "k",
            "1",
            environment,
            None,
            now - timedelta(days=200),
            None,
            None,
            None,
            privilege,
            {},
            "active",
            {"usage_tracked": True},
        )

    quiet = node("dev", "low")
    loud = node("prod", "admin")
    results = assess([quiet, loud], as_of=now, thresholds=Thresholds())
    assert 0 < results[quiet.id].score < results[loud.id].score <= 100
    assert {f["factor"] for f in results[loud.id].factors} >= {"usage.stale", "rotation.key_age", "privilege:admin"}
    early = assess([quiet], as_of=now - timedelta(days=190), thresholds=Thresholds())[quiet.id]
    assert [issue.check_id for issue in early.issues] == ["credential.static_long_lived"]


def test_client_errors_do_not_open_the_circuit_but_failures_do() -> None:
    resilience = Resilience(RetryPolicy(attempts=1), failure_threshold=2, sleep=lambda _: None)

    def not_found() -> None:
        raise httpx.HTTPStatusError("404", request=httpx.Request("GET", "http://x/"), response=httpx.Response(404))

    def unreachable() -> None:
        raise httpx.ConnectError("refused")

    for _ in range(5):
        with pytest.raises(httpx.HTTPStatusError):
            resilience.call("api", not_found, classify=lambda e: e, answered=answered_with_client_error)
    assert not resilience.is_open("api")
    for _ in range(2):
        with pytest.raises(httpx.ConnectError):
            resilience.call("api", unreachable, classify=lambda e: e, answered=answered_with_client_error)
    assert resilience.is_open("api")


def test_provider_answers_are_told_apart_from_outages() -> None:
    missing = ClientError({"Error": {"Code": "NoSuchEntity"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "GetUser")
    broken = ClientError({"Error": {"Code": "InternalFailure"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "GetUser")
    forbidden = httpx.HTTPStatusError("403", request=httpx.Request("GET", "http://x/"), response=httpx.Response(403))
    assert answered_with_client_error(missing)
    assert answered_with_client_error(forbidden)
    assert not answered_with_client_error(broken)
    assert not answered_with_client_error(httpx.ConnectError("refused"))
    assert not answered_with_client_error(TimeoutError())


def test_gathered_reads_keep_their_order_and_report_failures_in_order() -> None:
    context = CollectContext.create(uuid.uuid4(), Settings(discovery=DiscoverySettings(provider_concurrency=4)))
    collection = Collection()
    started = threading.Barrier(3, timeout=5)  # three reads must be in flight together to pass

    def read(value: int) -> int:
        started.wait()
        return value

    def fail(message: str) -> int:
        raise ValueError(message)

    values = context.gather(
        collection,
        [
            Read("a", None, lambda: read(1)),
            Read("b", -1, lambda: fail("first")),
            Read("c", None, lambda: read(3)),
            Read("d", -2, lambda: fail("second")),
            Read("e", None, lambda: read(5)),
        ],
    )

    assert values == [1, -1, 3, -2, 5]
    errors = [(error.scope, error.message) for error in collection.errors]
    assert errors == [("b", "ValueError: first"), ("d", "ValueError: second")]


def test_list_rows_the_export_and_the_load_take_their_columns_from_one_list() -> None:
    loaded = {column.name for column in NHI_COLUMNS if column.load}

    assert set(LIST_COLUMNS) == set(NhiOut.model_fields)
    assert EXPORT_COLUMNS == (
        "id",
        "provider",
        "kind",
        "account",
        "external_id",
        "name",
        "environment",
        "owner",
        "privilege_level",
        "status",
        "risk_score",
        "open_findings",
        "created_at",
        "last_used_at",
        "last_rotated_at",
        "expires_at",
        "first_seen_at",
        "last_seen_at",
    ), "the CSV header is a published format"
    assert loaded - {"id", "content_hash"} == {field.name for field in dataclasses.fields(NhiRecord)}
