/**
 * The browser's session with the API: sign-in, sign-out, and silent renewal of the access token with
 * the rotating refresh token.
 *
 * The server revokes the whole session when a refresh token is presented twice, so renewal is guarded
 * three ways: one refresh in flight per tab (callers share the promise), one across tabs (a Web Lock,
 * or a short storage lease where Web Locks are unavailable, after which the stored session is re-read
 * and adopted if another tab already renewed it), and a per-tab set of spent tokens that are never sent
 * again, whatever happened to the first attempt. See docs/web.md for why tokens live in localStorage.
 */
import type { components } from "../api/schema";
import { ApiError, NetworkError, apiErrorFrom, sentence } from "../api/problem";

type TokenPair = components["schemas"]["TokenPair"];

export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms after which the access token is renewed before use. */
  renewAt: number;
}

export type SessionState =
  { status: "signed-in"; session: StoredSession } | { status: "signed-out"; message: string | null };

/** The subset of the Web Locks API the session uses (injectable for tests). */
export interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface SessionOptions {
  baseUrl: string;
  storage: Storage;
  fetch?: (request: Request) => Promise<Response>;
  locks?: Locks | null;
  now?: () => number;
  /** How long to wait for another tab holding the storage lease (no Web Locks). */
  leaseWaitMs?: number;
  /** Whether the page is being left (reload, navigation, closed tab); by default from pagehide/pageshow. */
  leaving?: () => boolean;
}

export class SessionEndedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionEndedError";
  }
}

export const STORAGE_KEY = "nexora.session";
const LEASE_KEY = "nexora.session.renewing";
const LOCK_NAME = "nexora.session.renew";
const LEASE_TTL_MS = 15_000;

export const MESSAGES = {
  expired: "Your session has expired. Sign in again to continue.",
  unreachable: "Your session could not be renewed because the server did not answer. Sign in again.",
  otherTab: "You signed out in another tab.",
  signedOut: "You have signed out.",
} as const;

function parseStored(raw: string | null): StoredSession | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== "object" || value === null) return null;
    const { accessToken, refreshToken, renewAt } = value as Record<string, unknown>;
    if (typeof accessToken !== "string" || typeof refreshToken !== "string" || typeof renewAt !== "number") {
      return null;
    }
    return { accessToken, refreshToken, renewAt };
  } catch {
    return null;
  }
}

/** Renew a little before expiry so a request never leaves with a token about to lapse. */
function renewalMargin(expiresInSeconds: number): number {
  return Math.min(60, Math.max(1, expiresInSeconds * 0.2));
}

/** Follows pagehide and pageshow: while a page is being left the browser cuts its requests off. */
function pageLeaving(): () => boolean {
  let leaving = false;
  if (typeof window !== "undefined") {
    window.addEventListener("pagehide", () => {
      leaving = true;
    });
    window.addEventListener("pageshow", () => {
      leaving = false;
    });
  }
  return () => leaving;
}

function defaultLocks(): Locks | null {
  const candidate = typeof navigator !== "undefined" ? (navigator as Navigator & { locks?: Locks }).locks : undefined;
  return candidate && typeof candidate.request === "function" ? candidate : null;
}

export class SessionManager {
  private readonly baseUrl: string;
  private readonly storage: Storage;
  private readonly send: (request: Request) => Promise<Response>;
  private readonly locks: Locks | null;
  private readonly now: () => number;
  private readonly leaseWaitMs: number;
  private readonly leaving: () => boolean;
  private readonly listeners = new Set<() => void>();
  private readonly spent = new Set<string>();
  private inflight: Promise<StoredSession> | null = null;
  private state: SessionState;

  constructor(options: SessionOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.storage = options.storage;
    this.send = options.fetch ?? ((request) => globalThis.fetch(request));
    this.locks = options.locks === undefined ? defaultLocks() : options.locks;
    this.now = options.now ?? Date.now;
    this.leaseWaitMs = options.leaseWaitMs ?? 10_000;
    this.leaving = options.leaving ?? pageLeaving();
    const stored = parseStored(this.storage.getItem(STORAGE_KEY));
    this.state = stored ? { status: "signed-in", session: stored } : { status: "signed-out", message: null };
  }

  // ---- observing (useSyncExternalStore) -----------------------------------------------------------

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): SessionState => this.state;

  private setState(next: SessionState): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }

  /** Follow another tab's sign-in, renewal or sign-out (call from the window's `storage` event). */
  syncFromStorage(): void {
    const stored = parseStored(this.storage.getItem(STORAGE_KEY));
    if (stored) {
      const current = this.state.status === "signed-in" ? this.state.session : null;
      if (!current || current.refreshToken !== stored.refreshToken || current.accessToken !== stored.accessToken) {
        this.setState({ status: "signed-in", session: stored });
      }
    } else if (this.state.status === "signed-in") {
      this.setState({ status: "signed-out", message: MESSAGES.otherTab });
    }
  }

  // ---- sign-in and sign-out ------------------------------------------------------------------------

  /**
   * Sign in with e-mail and password, and the tenant (name or id) when the e-mail has accounts in several.
   * Throws `ApiError` (wrong credentials, locked, throttled; 409 with `tenants` when one must be chosen).
   */
  async signIn(email: string, password: string, tenant?: string): Promise<void> {
    const response = await this.post("/api/v1/auth/login", tenant ? { email, password, tenant } : { email, password });
    if (!response.ok) throw await apiErrorFrom(response);
    this.store((await response.json()) as TokenPair);
  }

  /** End the session on the server (best effort) and in every tab. */
  async signOut(): Promise<void> {
    const session = this.state.status === "signed-in" ? this.state.session : null;
    this.end(MESSAGES.signedOut);
    if (!session) return;
    try {
      await this.post("/api/v1/auth/logout", { refresh_token: session.refreshToken });
    } catch {
      // The tokens are gone from the browser; the server lets the family expire on its own.
    }
  }

  /** End the session locally with a message for the sign-in page. */
  end(message: string | null): void {
    this.storage.removeItem(STORAGE_KEY);
    this.setState({ status: "signed-out", message });
  }

  // ---- tokens --------------------------------------------------------------------------------------

  /** A valid access token, renewing it first when it is about to expire. */
  async accessToken(): Promise<string> {
    const session = this.current();
    if (session.renewAt > this.now()) return session.accessToken;
    return (await this.renew(session.accessToken)).accessToken;
  }

  /**
   * Renew the session because `staleAccessToken` is expired or was refused. Concurrent callers share one
   * renewal; a session already renewed by another caller or tab is adopted without sending anything.
   */
  renew(staleAccessToken: string): Promise<StoredSession> {
    if (!this.inflight) {
      this.inflight = this.exclusive(() => this.renewOnce(staleAccessToken)).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** `fetch` with the session's bearer token; a refused token is renewed and the request retried once. */
  async fetch(request: Request): Promise<Response> {
    const retry = request.clone();
    const token = await this.accessToken();
    const first = await this.authorized(request, token);
    if (first.status !== 401) return first;
    // Nobody reads the refusal: release it, or the browser keeps the request open until it is collected.
    await first.body?.cancel().catch(() => undefined);
    const renewed = await this.renew(token);
    const second = await this.authorized(retry, renewed.accessToken);
    if (second.status === 401) {
      const error = await apiErrorFrom(second.clone());
      this.end(sentence(error.detail) || MESSAGES.expired);
    }
    return second;
  }

  // ---- internals -----------------------------------------------------------------------------------

  private current(): StoredSession {
    // Storage is the source of truth across tabs; the in-memory state may lag a storage event.
    const stored = parseStored(this.storage.getItem(STORAGE_KEY));
    if (stored) return stored;
    if (this.state.status === "signed-in") this.end(MESSAGES.otherTab);
    throw new SessionEndedError(
      this.state.status === "signed-out" && this.state.message ? this.state.message : MESSAGES.expired,
    );
  }

  private async renewOnce(staleAccessToken: string): Promise<StoredSession> {
    const session = this.current();
    if (session.accessToken !== staleAccessToken && session.renewAt > this.now()) return session;
    if (this.spent.has(session.refreshToken)) {
      // Sending it again would revoke the session on the server; this tab cannot renew it any more.
      this.end(MESSAGES.expired);
      throw new SessionEndedError(MESSAGES.expired);
    }
    this.spent.add(session.refreshToken);
    let response: Response;
    try {
      response = await this.post("/api/v1/auth/refresh", { refresh_token: session.refreshToken });
    } catch {
      // A reload or a closed tab cuts the renewal off, perhaps after the server rotated the token. The session
      // stays stored: the next page presents the token again, which the server answers within its grace.
      if (this.leaving()) throw new NetworkError();
      this.end(MESSAGES.unreachable);
      throw new SessionEndedError(MESSAGES.unreachable);
    }
    if (!response.ok) {
      const error = await apiErrorFrom(response);
      const message = error.status === 401 ? sentence(error.detail) : MESSAGES.expired;
      this.end(message);
      throw new SessionEndedError(message);
    }
    return this.store((await response.json()) as TokenPair);
  }

  private store(pair: TokenPair): StoredSession {
    const session: StoredSession = {
      accessToken: pair.access_token,
      refreshToken: pair.refresh_token,
      renewAt: this.now() + (pair.expires_in - renewalMargin(pair.expires_in)) * 1000,
    };
    this.storage.setItem(STORAGE_KEY, JSON.stringify(session));
    this.setState({ status: "signed-in", session });
    return session;
  }

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.locks) return this.locks.request(LOCK_NAME, work);
    return this.withLease(work);
  }

  /** Without Web Locks: a storage lease naming the refresh token being renewed, honoured by other tabs. */
  private async withLease<T>(work: () => Promise<T>): Promise<T> {
    const deadline = this.now() + this.leaseWaitMs;
    for (;;) {
      const lease = this.readLease();
      const stored = parseStored(this.storage.getItem(STORAGE_KEY));
      const held = lease !== null && lease.until > this.now() && stored !== null && lease.token === stored.refreshToken;
      if (!held || this.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stored = parseStored(this.storage.getItem(STORAGE_KEY));
    if (stored)
      this.storage.setItem(LEASE_KEY, JSON.stringify({ token: stored.refreshToken, until: this.now() + LEASE_TTL_MS }));
    try {
      return await work();
    } finally {
      this.storage.removeItem(LEASE_KEY);
    }
  }

  private readLease(): { token: string; until: number } | null {
    try {
      const value: unknown = JSON.parse(this.storage.getItem(LEASE_KEY) ?? "null");
      if (typeof value !== "object" || value === null) return null;
      const { token, until } = value as Record<string, unknown>;
      return typeof token === "string" && typeof until === "number" ? { token, until } : null;
    } catch {
      return null;
    }
  }

  private async authorized(request: Request, token: string): Promise<Response> {
    const headers = new Headers(request.headers);
    headers.set("Authorization", `Bearer ${token}`);
    try {
      return await this.send(new Request(request, { headers }));
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new NetworkError();
    }
  }

  private async post(path: string, body: unknown): Promise<Response> {
    const request = new Request(`${this.baseUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    try {
      return await this.send(request);
    } catch {
      throw new NetworkError();
    }
  }
}
