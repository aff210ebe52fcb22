/**
 * API errors as readable messages. The API answers failures with RFC 9457 problem+json; the console
 * shows its `detail` (written for people, never echoing a secret) and never a response body it does not
 * understand, so an HTML error page or a stack trace from a proxy cannot reach the screen.
 */

export interface FieldError {
  location: string[];
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly fieldErrors: FieldError[];
  readonly requestId: string | undefined;
  readonly retryAfter: number | undefined;
  /** The problem's other members (RFC 9457 extensions), e.g. `tenants` of a sign-in that must choose one. */
  readonly extensions: Record<string, unknown>;

  constructor(init: {
    status: number;
    title: string;
    detail: string;
    fieldErrors?: FieldError[];
    requestId?: string | undefined;
    retryAfter?: number | undefined;
    extensions?: Record<string, unknown>;
  }) {
    super(init.detail);
    this.name = "ApiError";
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? [];
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.extensions = init.extensions ?? {};
  }
}

/** The connection failed before any answer (offline, server down, blocked). */
export class NetworkError extends Error {
  constructor() {
    super("Cannot reach the Nexora API. Check your connection and that the server is running.");
    this.name = "NetworkError";
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "The request was not accepted.",
  401: "You are not signed in.",
  403: "You do not have permission to do this.",
  404: "This was not found.",
  409: "This conflicts with the current state.",
  413: "The request is too large.",
  422: "Some fields are not valid.",
  429: "Too many requests; wait a moment and try again.",
  500: "The server had an internal error.",
  502: "The server is unreachable behind its proxy.",
  503: "The service is temporarily unavailable.",
  504: "The server took too long to answer.",
};

const MAX_DETAIL_LENGTH = 500;

function text(value: unknown, fallback: string): string {
  if (typeof value !== "string") return fallback;
  const trimmed = value.trim();
  if (!trimmed) return fallback;
  return trimmed.length > MAX_DETAIL_LENGTH ? `${trimmed.slice(0, MAX_DETAIL_LENGTH)}…` : trimmed;
}

function fieldErrorsOf(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) return [];
    const { location, message } = item as { location?: unknown; message?: unknown };
    if (typeof message !== "string") return [];
    const parts = Array.isArray(location) ? location.map(String) : [];
    return [{ location: parts, message: text(message, "invalid") }];
  });
}

function isJson(response: Response): boolean {
  const type = response.headers.get("content-type") ?? "";
  return type.includes("application/problem+json") || type.includes("application/json");
}

/** An `ApiError` for a failed response whose body was already read (`body` is its parsed JSON, if any). */
export function apiErrorFromBody(status: number, headers: Headers, body: unknown): ApiError {
  const fallback = STATUS_TEXT[status] ?? `The server answered with status ${status}.`;
  const fields: Record<string, unknown> =
    typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const retryHeader = Number(headers.get("retry-after"));
  return new ApiError({
    status,
    title: text(fields.title, fallback),
    detail: text(fields.detail, fallback),
    fieldErrors: fieldErrorsOf(fields.errors),
    requestId: typeof fields.request_id === "string" ? fields.request_id : undefined,
    retryAfter: Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined,
    extensions: fields,
  });
}

/** An `ApiError` describing a failed response (reads the body once; only JSON bodies are looked at). */
export async function apiErrorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  if (isJson(response)) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  return apiErrorFromBody(response.status, response.headers, body);
}

/** The API writes details as lower-case clauses; the console shows them as sentences. */
export function sentence(value: string): string {
  return value ? value.charAt(0).toUpperCase() + value.slice(1) : value;
}

function fieldLabel(location: string[]): string {
  // Drop the "body"/"query" prefix FastAPI puts first: people know the field, not the transport.
  const parts =
    location[0] === "body" || location[0] === "query" || location[0] === "path" ? location.slice(1) : location;
  return parts.join(".");
}

/** One readable sentence for any error thrown while talking to the API. Never a stack trace. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.fieldErrors.length > 0) {
      const fields = error.fieldErrors
        .slice(0, 5)
        .map((item) => (fieldLabel(item.location) ? `${fieldLabel(item.location)}: ${item.message}` : item.message));
      return `${sentence(error.detail)} (${fields.join("; ")})`;
    }
    return sentence(error.detail);
  }
  if (error instanceof NetworkError) return error.message;
  return "Something went wrong. Try again; if it keeps failing, check the server logs.";
}

/** The messages of a validation failure keyed by field name, for showing next to form inputs. */
export function fieldMessages(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const messages: Record<string, string> = {};
  for (const item of error.fieldErrors) {
    const label = fieldLabel(item.location);
    if (label && !(label in messages)) messages[label] = item.message;
  }
  return messages;
}
