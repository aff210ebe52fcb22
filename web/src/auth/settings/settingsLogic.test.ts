import { describe, expect, it } from "vitest";

import { apiKeyStatus } from "./apiKeyStatus";
import { displaySetting, parseSetting, SETTING_KEY_PATTERN, settingType } from "./tenantSettings";

describe("API key status", () => {
  const now = new Date("2026-01-10T00:00:00Z");

  it.each([
    [{ revoked_at: null, expires_at: null }, "active"],
    [{ revoked_at: null, expires_at: "2026-02-01T00:00:00Z" }, "active"],
    [{ revoked_at: null, expires_at: "2026-01-01T00:00:00Z" }, "expired"],
    [{ revoked_at: "2026-01-02T00:00:00Z", expires_at: "2026-01-01T00:00:00Z" }, "revoked"],
  ])("%j is %s", (key, expected) => {
    expect(apiKeyStatus(key, now)).toBe(expected);
  });
});

describe("tenant settings", () => {
  it.each([
    ["integer", "42", { value: 42 }],
    ["integer", " -7 ", { value: -7 }],
    ["integer", "4.2", { error: "Enter a whole number." }],
    ["integer", "1e9", { error: "Enter a whole number." }],
    ["boolean", "true", { value: true }],
    ["boolean", "yes", { error: "Choose true or false." }],
    ["string", "<script>alert(1)</script>", { value: "<script>alert(1)</script>" }],
    ["string", "x".repeat(1001), { error: "At most 1000 characters." }],
  ] as const)("%s %j parses to %j", (type, raw, expected) => {
    expect(parseSetting(type, raw)).toEqual(expected);
  });

  it("accepts plain keys and refuses hostile ones", () => {
    expect(SETTING_KEY_PATTERN.test("retention.days")).toBe(true);
    expect(SETTING_KEY_PATTERN.test("1abc")).toBe(false);
    expect(SETTING_KEY_PATTERN.test("a b")).toBe(false);
    expect(SETTING_KEY_PATTERN.test("__proto__")).toBe(false);
    expect(SETTING_KEY_PATTERN.test("a".repeat(65))).toBe(false);
  });

  it("names and shows each kind of value", () => {
    expect([null, true, 3, "x", 1.5].map(settingType)).toEqual(["unset", "boolean", "integer", "string", "other"]);
    expect(displaySetting(null)).toBe("unset");
    expect(displaySetting({ nested: 1 })).toBe('{"nested":1}');
  });
});
