import { describe, expect, it } from "vitest";

import { preview, REDACTED, redactText, redactValue } from "./redact";

const API_KEY = "nxr_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6" + "Qr7St8";
const JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl";
const GITHUB = "ghp_" + "a".repeat(36);

describe("redaction before display", () => {
  it("replaces credential-named fields at any depth but keeps flags and numbers", () => {
    const value = {
      name: "ci",
      client_secret: "s3cr3t-value",
      nested: { password: "hunter2", items: [{ api_key: "k" }] },
      has_credentials: true,
      token_ttl: 3600,
      token: null,
    };

    expect(redactValue(value)).toEqual({
      name: "ci",
      client_secret: REDACTED,
      nested: { password: REDACTED, items: [{ api_key: REDACTED }] },
      has_credentials: true,
      token_ttl: 3600,
      token: null,
    });
  });

  it("reduces credential-shaped text anywhere to a preview", () => {
    const text = `key ${API_KEY} jwt ${JWT} gh ${GITHUB} -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----`;

    const cleaned = redactText(text);

    for (const secret of [API_KEY, JWT, GITHUB, "MIIE"]) expect(cleaned).not.toContain(secret);
    expect(cleaned).toContain("key nxr_…7St8 jwt eyJh…dXJl");
  });

  it("never shows more than four characters at each end", () => {
    expect(preview("short")).toBe("…");
    expect(preview("AKIAIOSFODNN7EXAMPLE")).toBe("AKI…PLE");
    expect(preview("x".repeat(100))).toBe("xxxx…xxxx");
  });
});
