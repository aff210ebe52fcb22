import { describe, expect, it } from "vitest";

import { ApiError, NetworkError } from "../api/problem";
import { ADMIN, FakeApi } from "../test/fakeApi";
import { MemoryLocks, MemoryStorage } from "../test/memoryStorage";
import { MESSAGES, SessionEndedError, SessionManager, STORAGE_KEY, type Locks } from "./session";

const BASE = "http://console.test";

function tab(api: FakeApi, storage: Storage, locks: Locks | null, now: () => number = Date.now) {
  return new SessionManager({ baseUrl: BASE, storage, fetch: api.fetch, locks, now, leaseWaitMs: 2_000 });
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

/** A clock the test moves forward, so "the access token is about to expire" needs no waiting. */
function clock(start = 1_000_000) {
  let current = start;
  return { now: () => current, advance: (ms: number) => (current += ms) };
}

async function signedInTab(api: FakeApi, storage = new MemoryStorage(), locks: Locks | null = new MemoryLocks()) {
  const time = clock();
  const session = tab(api, storage, locks, time.now);
  await session.signIn(ADMIN.email, ADMIN.password);
  return { session, storage, time };
}

describe("signing in and out", () => {
  it("keeps the session across a reload through storage", async () => {
    const api = new FakeApi();
    const { storage, time } = await signedInTab(api);

    const reloaded = tab(api, storage, null, time.now);

    expect(reloaded.getState().status).toBe("signed-in");
    expect(await reloaded.accessToken()).toBe("access-1");
  });

  it("reports wrong credentials with the server's message and stays signed out", async () => {
    const api = new FakeApi();
    const session = tab(api, new MemoryStorage(), null);

    const failure = session.signIn(ADMIN.email, "not-the-password");

    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 401, detail: "the e-mail or password is wrong" });
    expect(session.getState()).toEqual({ status: "signed-out", message: null });
  });

  it("ignores a corrupted stored session", () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, '{"accessToken": 42}');

    const session = tab(new FakeApi(), storage, null);

    expect(session.getState().status).toBe("signed-out");
  });

  it("signs out on the server with the refresh token and clears the browser", async () => {
    const api = new FakeApi();
    const { session, storage } = await signedInTab(api);

    await session.signOut();

    expect(api.logoutCalls).toEqual(["refresh-1"]);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    expect(session.getState()).toEqual({ status: "signed-out", message: MESSAGES.signedOut });
  });

  it("follows a sign-out made in another tab", async () => {
    const api = new FakeApi();
    const { session, storage } = await signedInTab(api);
    const other = tab(api, storage, null);

    await other.signOut();
    session.syncFromStorage();

    expect(session.getState()).toEqual({ status: "signed-out", message: MESSAGES.otherTab });
  });
});

describe("renewing the access token", () => {
  it("uses the stored access token while it is fresh", async () => {
    const api = new FakeApi();
    const { session } = await signedInTab(api);

    expect(await session.accessToken()).toBe("access-1");
    expect(api.refreshCalls).toEqual([]);
  });

  it("renews shortly before expiry and stores the rotated refresh token", async () => {
    const api = new FakeApi();
    const { session, storage, time } = await signedInTab(api);

    time.advance((900 - 30) * 1000);
    const token = await session.accessToken();

    expect(token).toBe("access-2");
    expect(api.refreshCalls).toEqual(["refresh-1"]);
    expect(JSON.parse(storage.getItem(STORAGE_KEY) ?? "{}")).toMatchObject({ refreshToken: "refresh-2" });
  });

  it("sends one refresh for many concurrent callers", async () => {
    const api = new FakeApi();
    const { session, time } = await signedInTab(api);
    const gate = deferred();
    api.refreshGate = gate.promise;
    time.advance(900 * 1000);

    const tokens = Promise.all([session.accessToken(), session.accessToken(), session.accessToken()]);
    gate.release();

    expect(await tokens).toEqual(["access-2", "access-2", "access-2"]);
    expect(api.refreshCalls).toEqual(["refresh-1"]);
  });

  it("retries a request refused with 401 once, with the renewed token and the same body", async () => {
    const api = new FakeApi();
    const { session } = await signedInTab(api);
    api.expireAccessTokens();

    const response = await session.fetch(
      new Request(`${BASE}/api/v1/echo`, { method: "POST", body: JSON.stringify({ name: "kept" }) }),
    );

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: "kept" });
    expect(api.refreshCalls).toEqual(["refresh-1"]);
  });

  it("releases the refused response instead of leaving its body unread", async () => {
    const api = new FakeApi();
    const { storage, time } = await signedInTab(api);
    const seen: Response[] = [];
    const session = new SessionManager({
      baseUrl: BASE,
      storage,
      locks: null,
      now: time.now,
      fetch: async (request) => {
        const response = await api.fetch(request);
        seen.push(response);
        return response;
      },
    });
    api.expireAccessTokens();

    const response = await session.fetch(new Request(`${BASE}/api/v1/auth/me`));

    expect(response.status).toBe(200);
    expect(seen.map((each) => each.status)).toEqual([401, 200, 200]);
    expect(seen[0]?.bodyUsed).toBe(true);
    expect(response.bodyUsed).toBe(false);
  });

  it("renews once when several requests are refused together", async () => {
    const api = new FakeApi();
    const { session } = await signedInTab(api);
    api.expireAccessTokens();

    const responses = await Promise.all(
      ["me", "api-keys", "me"].map((path) =>
        session.fetch(new Request(`${BASE}/api/v1/${path === "me" ? "auth/me" : path}`)),
      ),
    );

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(api.refreshCalls).toEqual(["refresh-1"]);
  });

  it("ends the session with the server's reason when the refresh token is refused", async () => {
    const api = new FakeApi();
    const { session, time } = await signedInTab(api);
    await api.fetch(
      new Request(`${BASE}/api/v1/auth/logout`, {
        method: "POST",
        body: JSON.stringify({ refresh_token: "refresh-1" }),
      }),
    );
    time.advance(900 * 1000);

    await expect(session.accessToken()).rejects.toBeInstanceOf(SessionEndedError);

    expect(session.getState()).toEqual({
      status: "signed-out",
      message: "The refresh token was revoked; sign in again",
    });
  });

  it("never sends a refresh token twice, even when the first attempt got no answer", async () => {
    const api = new FakeApi();
    const { session, storage, time } = await signedInTab(api);
    api.refreshFailsWithNetworkError = true;
    time.advance(900 * 1000);

    await expect(session.accessToken()).rejects.toThrow(MESSAGES.unreachable);
    // Even if the old session reappears in storage, this tab will not present the spent token again.
    storage.setItem(STORAGE_KEY, JSON.stringify({ accessToken: "access-1", refreshToken: "refresh-1", renewAt: 0 }));
    api.refreshFailsWithNetworkError = false;
    await expect(session.accessToken()).rejects.toBeInstanceOf(SessionEndedError);

    expect(api.refreshCalls).toEqual(["refresh-1"]);
    expect(session.getState().status).toBe("signed-out");
  });

  it("keeps the session stored when leaving the page cuts a renewal off, for the next page to renew", async () => {
    const api = new FakeApi();
    const { storage, time } = await signedInTab(api);
    let leaving = false;
    const session = new SessionManager({
      baseUrl: BASE,
      storage,
      locks: null,
      now: time.now,
      leaving: () => leaving,
      fetch: (request) => api.fetch(request),
    });
    api.refreshFailsWithNetworkError = true;
    time.advance(900 * 1000);
    leaving = true;

    await expect(session.accessToken()).rejects.toBeInstanceOf(NetworkError);

    expect(session.getState().status).toBe("signed-in");
    expect(JSON.parse(storage.getItem(STORAGE_KEY) ?? "null")).toMatchObject({ refreshToken: "refresh-1" });
    api.refreshFailsWithNetworkError = false;
    const next = tab(api, storage, null, time.now);
    expect(await next.accessToken()).toBe("access-2");
    expect(api.refreshCalls).toEqual(["refresh-1", "refresh-1"]);
  });

  it("ends the session instead of looping when a request is refused even after renewal", async () => {
    const api = new FakeApi();
    const refusing = (request: Request) =>
      new URL(request.url).pathname === "/api/v1/auth/me"
        ? Promise.resolve(
            new Response(JSON.stringify({ status: 401, detail: "the access token is invalid; sign in again" }), {
              status: 401,
              headers: { "content-type": "application/problem+json" },
            }),
          )
        : api.fetch(request);
    const session = new SessionManager({ baseUrl: BASE, storage: new MemoryStorage(), fetch: refusing, locks: null });
    await session.signIn(ADMIN.email, ADMIN.password);

    const response = await session.fetch(new Request(`${BASE}/api/v1/auth/me`));

    expect(response.status).toBe(401);
    expect(api.refreshCalls).toEqual(["refresh-1"]);
    expect(session.getState()).toEqual({ status: "signed-out", message: "The access token is invalid; sign in again" });
  });
});

describe("several tabs", () => {
  it.each([
    ["with Web Locks", () => new MemoryLocks()],
    ["with the storage lease", () => null],
  ])("renew once and share the result %s", async (_label, makeLocks) => {
    const api = new FakeApi();
    const storage = new MemoryStorage();
    const locks = makeLocks();
    const time = clock();
    const first = tab(api, storage, locks, time.now);
    await first.signIn(ADMIN.email, ADMIN.password);
    const second = tab(api, storage, locks, time.now);
    const gate = deferred();
    api.refreshGate = gate.promise;
    time.advance(900 * 1000);

    const both = Promise.all([first.accessToken(), second.accessToken()]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    gate.release();

    expect(await both).toEqual(["access-2", "access-2"]);
    expect(api.refreshCalls).toEqual(["refresh-1"]);
  });
});
