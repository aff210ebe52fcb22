import { describe, expect, it } from "vitest";

import { ApiError, apiErrorFrom, apiErrorFromBody, errorMessage, fieldMessages, NetworkError } from "./problem";

function response(
  status: number,
  body: string,
  type = "application/problem+json",
  headers: Record<string, string> = {},
) {
  return new Response(body, { status, headers: { "content-type": type, ...headers } });
}

describe("reading problem+json", () => {
  it("takes the detail, title, request id and field errors", async () => {
    const error = await apiErrorFrom(
      response(
        422,
        JSON.stringify({
          title: "Invalid request",
          detail: "the request does not match the schema",
          request_id: "req-123",
          errors: [{ location: ["body", "email"], message: "value is not a valid email", type: "value_error" }],
        }),
      ),
    );

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, title: "Invalid request", requestId: "req-123" });
    expect(errorMessage(error)).toBe("The request does not match the schema (email: value is not a valid email)");
    expect(fieldMessages(error)).toEqual({ email: "value is not a valid email" });
  });

  it("reads Retry-After of a throttled answer", async () => {
    const error = await apiErrorFrom(
      response(429, JSON.stringify({ detail: "too many attempts" }), "application/problem+json", {
        "retry-after": "30",
      }),
    );

    expect(error.retryAfter).toBe(30);
    expect(errorMessage(error)).toBe("Too many attempts");
  });

  it("never shows an HTML error page or a stack trace", async () => {
    const html = "<html><body><pre>Traceback (most recent call last):\n  File app.py</pre></body></html>";

    const error = await apiErrorFrom(response(502, html, "text/html"));

    expect(errorMessage(error)).toBe("The server is unreachable behind its proxy.");
    expect(errorMessage(error)).not.toContain("Traceback");
  });

  it("falls back to the status when the JSON body is not a problem", async () => {
    const error = await apiErrorFrom(response(500, "[1, 2, 3]", "application/json"));

    expect(errorMessage(error)).toBe("The server had an internal error.");
  });

  it("survives a body that claims to be JSON but is not", async () => {
    const error = await apiErrorFrom(response(503, "{not json", "application/json"));

    expect(error.status).toBe(503);
    expect(errorMessage(error)).toBe("The service is temporarily unavailable.");
  });

  it("cuts an overlong detail", () => {
    const error = apiErrorFromBody(400, new Headers(), { detail: "x".repeat(5000) });

    expect(error.detail.length).toBeLessThanOrEqual(501);
  });

  it("names an unknown status", () => {
    expect(errorMessage(apiErrorFromBody(418, new Headers(), null))).toBe("The server answered with status 418.");
  });
});

describe("other failures", () => {
  it("explains a network failure", () => {
    expect(errorMessage(new NetworkError())).toMatch(/Cannot reach the Nexora API/);
  });

  it("hides the message of an unexpected exception", () => {
    const unexpected = new TypeError("Cannot read properties of undefined (reading 'x')");

    expect(errorMessage(unexpected)).toBe(
      "Something went wrong. Try again; if it keeps failing, check the server logs.",
    );
  });
});
