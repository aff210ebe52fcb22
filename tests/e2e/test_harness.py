"""The browser-test harness itself: scenario output is parsed per scenario and redacted before it can reach
a test report."""

from pathlib import Path

from nexora.core.keyformat import generate_api_key
from tests.e2e.console import parse_scenarios, redact


def test_keys_tokens_and_passwords_are_blanked_out_of_scenario_output() -> None:
    key = generate_api_key()
    refresh = "rt1." + "ab" * 16 + ".Zm9vYmFyYmF6cXV4LWxvbmctcmFuZG9tLXBhcnQ"
    jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXBhcnQ"
    text = f"<pre aria-label='New API key'>{key}</pre> {refresh} Bearer {jwt} password=hunter2-long"

    cleaned = redact(text, "hunter2-long")

    for secret in (key, refresh, jwt, "hunter2-long"):
        assert secret not in cleaned
    assert cleaned.count("[redacted]") == 4
    assert "New API key" in cleaned


def test_runner_output_is_split_by_scenario() -> None:
    output = "\n".join(
        [
            'fact api_keys: {"key_name": "k1"}',
            "screenshot api_keys: /tmp/shots/api-key-created.png",
            "passed api_keys",
            'fact phone: {"width": 390}',
            'failed phone: "Error: timeout\\n    at phone.mjs:3"',
            "some chromium noise",
        ]
    )

    results = parse_scenarios(output, ["api_keys", "phone", "users"])

    assert results["api_keys"].passed
    assert results["api_keys"].facts == {"key_name": "k1"}
    assert results["api_keys"].screenshots == [Path("/tmp/shots/api-key-created.png")]
    assert not results["phone"].passed
    assert results["phone"].error == "Error: timeout\n    at phone.mjs:3"
    assert results["phone"].facts == {"width": 390}
    assert not results["users"].passed
    assert "did not report" in results["users"].error
