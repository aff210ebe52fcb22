import json
import time

import httpx

from tests.fixtures.live import LiveApi


def test_requests_are_traced_over_otlp_and_logs_carry_the_trace_id(live_api: LiveApi) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = httpx.get(
        f"{live_api.url}/api/v1/auth/me",
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "X-Request-ID": "traced-request"},
    )
    assert response.status_code == 401

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and ("GET /api/v1/auth/me", trace_id) not in live_api.receiver.span_names():
        time.sleep(0.1)
    assert ("GET /api/v1/auth/me", trace_id) in live_api.receiver.span_names()

    lines = [json.loads(line) for line in live_api.logs().splitlines() if line.startswith("{")]
    request = next(
        line for line in lines if line.get("request_id") == "traced-request" and line.get("event") == "request"
    )
    assert request["trace_id"] == trace_id
