/** Tenant settings are a flat map of strings, integers, booleans and nulls (what the API accepts). */
export type SettingValue = string | number | boolean | null;
export type SettingType = "string" | "integer" | "boolean";

export const SETTING_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

export function settingType(value: unknown): SettingType | "unset" | "other" {
  if (value === null || value === undefined) return "unset";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number" && Number.isInteger(value)) return "integer";
  if (typeof value === "string") return "string";
  return "other";
}

/** The typed value of a form entry, or an error message for the person typing it. */
export function parseSetting(type: SettingType, raw: string): { value: SettingValue } | { error: string } {
  if (type === "boolean") {
    if (raw === "true" || raw === "false") return { value: raw === "true" };
    return { error: "Choose true or false." };
  }
  if (type === "integer") {
    const trimmed = raw.trim();
    if (!/^-?\d{1,15}$/.test(trimmed)) return { error: "Enter a whole number." };
    return { value: Number(trimmed) };
  }
  if (raw.length > 1000) return { error: "At most 1000 characters." };
  return { value: raw };
}

export function displaySetting(value: unknown): string {
  if (value === null || value === undefined) return "unset";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
