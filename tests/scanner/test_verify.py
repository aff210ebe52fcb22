"""Live verification against real peers: moto_server for AWS, a local server speaking the HTTP providers' APIs."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from nexora.scanner.model import Verification
from nexora.scanner.verify import http
from tests.scanner.fixtures.files import write
from tests.scanner.fixtures.peers import (
    MOTO_FREE_ACTIONS,
    MotoServer,
    ProviderState,
    free_port,
    start_moto,
    start_provider,
)
from tests.scanner.fixtures.samples import aws_key_pair, github_token, random_token

RNG = random.Random(17)
BASE32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from start_moto()


@pytest.fixture(scope="module")
def aws_credentials(moto: MotoServer) -> tuple[str, str]:
    """A key pair that moto issued, shaped like real AWS keys (base32), minted before authentication starts."""
    iam = boto3.client(
        "iam",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="AKIAFREEACTIONSFREE2",
        aws_secret_access_key="x" * 40,
    )
    used = 0
    found: tuple[str, str] | None = None
    while found is None and used + 3 < MOTO_FREE_ACTIONS:
        user = f"ci-{used}"
        iam.create_user(UserName=user)
        used += 1
        for _ in range(2):
            key = iam.create_access_key(UserName=user)["AccessKey"]
            used += 1
            if set(key["AccessKeyId"][4:]) <= BASE32:
                found = (key["AccessKeyId"], key["SecretAccessKey"])
                break
    assert found is not None, "moto never issued a base32 key id"
    # Spend the remaining free actions so every later request is authenticated.
    while used < MOTO_FREE_ACTIONS:
        iam.list_users()
        used += 1
    return found


@pytest.fixture
def provider() -> Iterator[tuple[str, ProviderState]]:
    yield from start_provider()


def _verify(cli: object, root: Path, *endpoints: str) -> list[dict[str, object]]:
    args: list[str] = [str(root), "--verify", "--format", "json", "--verify-timeout", "2"]
    for endpoint in endpoints:
        args += ["--verify-endpoint", endpoint]
    result = cli(*args)  # type: ignore[operator]
    return json.loads(result.stdout)["findings"]  # type: ignore[no-any-return]


def test_aws_keys_issued_by_moto_verify_as_valid(
    tmp_path: Path, cli: object, moto: MotoServer, aws_credentials: tuple[str, str]
) -> None:
    key_id, secret = aws_credentials
    write(tmp_path / "creds.ini", f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}")
    assert {f["rule_id"]: f["verification"] for f in findings} == {
        "aws-access-key-id": "valid",
        "aws-secret-access-key": "valid",
    }
    assert "arn:aws:iam::" in str(findings[0]["verification_detail"])


def test_aws_keys_unknown_to_moto_verify_as_invalid(
    tmp_path: Path, cli: object, moto: MotoServer, aws_credentials: tuple[str, str]
) -> None:
    key_id, secret = aws_key_pair(RNG)
    write(tmp_path / "creds.ini", f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}")
    assert {f["verification"] for f in findings} == {"invalid"}


def test_an_aws_key_id_without_a_secret_is_unknown(tmp_path: Path, cli: object, moto: MotoServer) -> None:
    write(tmp_path / "id-only.env", f"AWS_ACCESS_KEY_ID={aws_key_pair(RNG)[0]}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}")
    assert findings[0]["verification"] == "unknown"


def test_github_tokens_are_valid_invalid_or_unknown_when_throttled(
    tmp_path: Path, cli: object, provider: tuple[str, ProviderState]
) -> None:
    url, state = provider
    valid, revoked, throttled = github_token(RNG), github_token(RNG), github_token(RNG)
    state.valid.add(valid)
    state.throttled.add(throttled)
    write(tmp_path / "a.env", f"A={valid}\nB={revoked}\nC={throttled}\n")
    findings = _verify(cli, tmp_path, f"github={url}")
    assert [f["verification"] for f in sorted(findings, key=lambda f: f["line"])] == ["valid", "invalid", "unknown"]


def test_slack_gitlab_stripe_and_openai_speak_their_own_apis(
    tmp_path: Path, cli: object, provider: tuple[str, ProviderState]
) -> None:
    url, state = provider
    slack = f"xoxb-{random_token(RNG, 12, '0123456789')}-{random_token(RNG, 13, '0123456789')}-{random_token(RNG, 24)}"
    gitlab = "glpat-" + random_token(RNG, 20)
    stripe = "sk_live_" + random_token(RNG, 32)
    openai = f"sk-{random_token(RNG, 20)}T3BlbkFJ{random_token(RNG, 20)}"
    state.valid.update({slack, gitlab, stripe})
    write(tmp_path / "keys.env", f"SLACK={slack}\nGITLAB={gitlab}\nSTRIPE={stripe}\nOPENAI={openai}\n")
    endpoints = [f"{name}={url}" for name in ("slack", "gitlab", "stripe", "openai")]
    findings = {f["rule_id"]: f["verification"] for f in _verify(cli, tmp_path, *endpoints)}
    assert findings == {
        "slack-bot-token": "valid",
        "gitlab-pat": "valid",
        "stripe-secret-key": "valid",
        "openai-api-key": "invalid",
    }


def test_unreachable_or_slow_providers_give_unknown_never_an_error(provider: tuple[str, ProviderState]) -> None:
    url, state = provider
    slow = github_token(RNG)
    state.slow.add(slow)
    closed = f"http://127.0.0.1:{free_port()}"
    assert http.check("github", slow, url, timeout=0.5)[0] is Verification.UNKNOWN
    assert http.check("github", github_token(RNG), closed, timeout=0.5)[0] is Verification.UNKNOWN
    assert http.check("slack", "xoxb-1", url, timeout=2)[0] is Verification.INVALID


def test_verification_is_off_by_default(tmp_path: Path, cli: object) -> None:
    write(tmp_path / "a.env", f"A={github_token(RNG)}\n")
    result = cli(tmp_path, "--format", "json")  # type: ignore[operator]
    assert json.loads(result.stdout)["findings"][0]["verification"] is None
