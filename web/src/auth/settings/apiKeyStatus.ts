import type { ApiKey } from "../useApiKeys";

export type ApiKeyStatus = "active" | "revoked" | "expired";

/** Revoked wins over expired: it is the stronger, deliberate state. */
export function apiKeyStatus(key: Pick<ApiKey, "revoked_at" | "expires_at">, now: Date = new Date()): ApiKeyStatus {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && new Date(key.expires_at).getTime() <= now.getTime()) return "expired";
  return "active";
}

export const STATUS_COLOR: Record<ApiKeyStatus, string> = { active: "teal", revoked: "red", expired: "gray" };
