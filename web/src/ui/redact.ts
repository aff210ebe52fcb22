/**
 * The console's second line against showing a secret: provider attributes, finding evidence and audit
 * payloads are free-form JSON, so before display credential-named fields are replaced and credential-shaped
 * strings are reduced to a preview (the server already does both; this guards against anything it missed).
 */

export const REDACTED = "[redacted]";
const ELLIPSIS = "…";

// Field names whose values are credentials whatever they hold (the audit log's list).
const SECRET_NAME =
  /(?:^|_)(?:password|passwd|passphrase|secret|token|credentials?|authorization|cookie|private_key|secret_key|access_key|api_key|client_secret|session_key|signing_key|kubeconfig)$/;

// Credential shapes: Nexora API keys, refresh tokens, JWTs, PEM private keys, GitHub and Slack tokens.
const SECRET_VALUE = new RegExp(
  [
    "nxr_[0-9A-Za-z]{38}",
    "rt1\\.[0-9a-f]{32}\\.[A-Za-z0-9_-]{20,}",
    "eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]+",
    "-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    "gh[pousr]_[A-Za-z0-9]{36,}",
    "github_pat_[A-Za-z0-9_]{22,}",
    "xox[abposr]-[A-Za-z0-9-]{10,}",
  ].join("|"),
  "g",
);

/** A preview that identifies a secret without revealing it: at most four characters at each end. */
export function preview(value: string): string {
  if (value.length < 8) return ELLIPSIS;
  const shown = Math.min(4, Math.floor(value.length / 6));
  return `${value.slice(0, shown)}${ELLIPSIS}${value.slice(-shown)}`;
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase());
}

/** Replace credential-shaped substrings of `text` with their previews. */
export function redactText(text: string): string {
  return text.replace(SECRET_VALUE, (match) => preview(match));
}

/** `value` with credential-named fields (holding anything but a flag or a number) and secret shapes replaced. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => {
        const harmless = item === null || typeof item === "boolean" || typeof item === "number";
        return [key, isSecretName(key) && !harmless ? REDACTED : redactValue(item, depth + 1)];
      }),
    );
  }
  return value;
}
