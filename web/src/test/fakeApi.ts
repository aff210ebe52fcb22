/**
 * An in-memory stand-in for the parts of the Nexora HTTP API the console's unit tests exercise, with the
 * server's semantics: rotating refresh tokens whose reuse revokes the family, problem+json errors, and
 * API keys returned once. It is injected as `fetch`; the browser tests run against the real server.
 */
import type { components } from "../api/schema";

type Schemas = components["schemas"];

interface Family {
  revoked: boolean;
}

interface RefreshRecord {
  family: Family;
  used: boolean;
}

/** Answers a signed-in request to a route a test added (`api.on("GET /api/v1/nhis", ...)`). */
export type Handler = (request: Request, url: URL, match: RegExpExecArray) => Response | Promise<Response>;

export const ADMIN = { email: "admin@example.com", password: "correct-horse-battery-staple" };

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function problem(status: number, detail: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ type: "about:blank", title: "Error", status, detail, ...extra }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

export class FakeApi {
  readonly me: Schemas["Me"] = {
    id: "00000000-0000-4000-8000-000000000001",
    email: ADMIN.email,
    tenant_id: "00000000-0000-4000-8000-0000000000aa",
    roles: ["admin"],
    is_platform_admin: false,
    auth_method: "user",
  };
  expiresIn = 900;
  /** Every refresh token presented to /auth/refresh, in order. */
  readonly refreshCalls: string[] = [];
  readonly logoutCalls: string[] = [];
  readonly requests: string[] = [];
  /** Every request as "METHOD /path?query", for tests that check what the console asked for. */
  readonly urls: string[] = [];
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  /** When set, /auth/refresh waits for it (to hold several callers at the same moment). */
  refreshGate: Promise<void> | null = null;
  refreshFailsWithNetworkError = false;
  readonly apiKeys: Schemas["ApiKeyOut"][] = [];
  private readonly validAccess = new Set<string>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private counter = 0;

  /** Sign in directly (test setup) and return the pair, as the login endpoint would. */
  issue(family: Family = { revoked: false }): Schemas["TokenPair"] {
    this.counter += 1;
    const access = `access-${this.counter}`;
    const refresh = `refresh-${this.counter}`;
    this.validAccess.add(access);
    this.refreshTokens.set(refresh, { family, used: false });
    return { access_token: access, refresh_token: refresh, token_type: "Bearer", expires_in: this.expiresIn };
  }

  /** Serve `route` ("GET /api/v1/nhis/([^/]+)", a regular expression over the path) with `handler`. */
  on(route: string, handler: Handler): this {
    const [method = "GET", path = ""] = route.split(" ", 2);
    this.routes.unshift({ method, pattern: new RegExp(`^${path}$`), handler });
    return this;
  }

  /** The query parameters of every request made to `path`. */
  queries(path: string): URLSearchParams[] {
    return this.urls
      .map((entry) => new URL(entry.split(" ", 2)[1] ?? "", "http://fake.test"))
      .filter((url) => url.pathname === path)
      .map((url) => url.searchParams);
  }

  /** The server stops accepting every access token issued so far (as after expiry). */
  expireAccessTokens(): void {
    this.validAccess.clear();
  }

  readonly fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    this.requests.push(route);
    this.urls.push(`${request.method} ${url.pathname}${url.search}`);
    if (route === "POST /api/v1/auth/login") return this.login(await request.json());
    if (route === "POST /api/v1/auth/refresh") return this.refresh(await request.json());
    if (route === "POST /api/v1/auth/logout") return this.logout(await request.json());
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    if (!this.validAccess.has(token)) return problem(401, "the access token is invalid; sign in again");
    if (route === "GET /api/v1/auth/me") return json(200, this.me);
    if (route === "GET /api/v1/api-keys") return json(200, { items: this.apiKeys, next_cursor: null });
    if (route === "POST /api/v1/api-keys") return this.createKey(await request.json());
    const revoke = /^DELETE \/api\/v1\/api-keys\/([\w-]+)$/.exec(route);
    if (revoke) return this.revokeKey(revoke[1] ?? "");
    if (route === "POST /api/v1/echo") return json(200, await request.json());
    for (const candidate of this.routes) {
      const match = candidate.method === request.method ? candidate.pattern.exec(url.pathname) : null;
      if (match) return candidate.handler(request, url, match);
    }
    return problem(404, `no such resource: ${url.pathname}`);
  };

  /** Tenants in which ADMIN's e-mail has an account; with two or more, sign-in must name one (409 otherwise). */
  loginTenants: { id: string; name: string }[] = [];

  private login(body: { email?: string; password?: string; tenant?: string }): Response {
    if (body.email !== ADMIN.email || body.password !== ADMIN.password) {
      return problem(401, "the e-mail or password is wrong");
    }
    if (this.loginTenants.length > 1) {
      if (!body.tenant) {
        return problem(409, "this e-mail belongs to several tenants; choose one with 'tenant' (its name or id)", {
          tenants: this.loginTenants,
        });
      }
      if (!this.loginTenants.some((item) => item.id === body.tenant || item.name === body.tenant)) {
        return problem(401, "the e-mail or password is wrong");
      }
    }
    return json(200, this.issue());
  }

  private async refresh(body: { refresh_token: string }): Promise<Response> {
    this.refreshCalls.push(body.refresh_token);
    if (this.refreshGate) await this.refreshGate;
    if (this.refreshFailsWithNetworkError) throw new TypeError("Failed to fetch");
    const record = this.refreshTokens.get(body.refresh_token);
    if (!record) return problem(401, "the refresh token is not valid; sign in again");
    if (record.family.revoked) return problem(401, "the refresh token was revoked; sign in again");
    if (record.used) {
      record.family.revoked = true;
      return problem(401, "the refresh token was already used; this session was revoked, sign in again");
    }
    record.used = true;
    return json(200, this.issue(record.family));
  }

  private logout(body: { refresh_token: string }): Response {
    this.logoutCalls.push(body.refresh_token);
    const record = this.refreshTokens.get(body.refresh_token);
    if (record) record.family.revoked = true;
    return new Response(null, { status: 204 });
  }

  private createKey(body: Schemas["ApiKeyCreate"]): Response {
    if (!body.name?.trim()) {
      return problem(422, "the request does not match the schema", {
        errors: [{ location: ["body", "name"], message: "String should have at least 1 character" }],
      });
    }
    this.counter += 1;
    const now = new Date().toISOString();
    const key: Schemas["ApiKeyOut"] = {
      id: `00000000-0000-4000-8000-${String(this.counter).padStart(12, "0")}`,
      name: body.name,
      prefix: `nxr_k${this.counter}`,
      scopes: body.scopes,
      created_by: this.me.id,
      created_at: now,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    };
    this.apiKeys.push(key);
    const created: Schemas["ApiKeyCreated"] = { ...key, key: `nxr_k${this.counter}_secretvalue${this.counter}XYZ` };
    return json(201, created);
  }

  private revokeKey(id: string): Response {
    const key = this.apiKeys.find((candidate) => candidate.id === id);
    if (!key) return problem(404, "API key not found");
    key.revoked_at = new Date().toISOString();
    return new Response(null, { status: 204 });
  }
}
