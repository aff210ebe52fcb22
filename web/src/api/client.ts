/**
 * The typed API client: `openapi-fetch` over the generated `schema.d.ts`, sending every request through
 * the session (bearer token, one renewal and retry on 401). `unwrap` turns a failed call into `ApiError`.
 */
import createClient from "openapi-fetch";

import type { SessionManager } from "../auth/session";
import { apiErrorFromBody } from "./problem";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

export function createApiClient(session: SessionManager, baseUrl: string) {
  return createClient<paths>({ baseUrl, fetch: (request: Request) => session.fetch(request) });
}

export type ApiClient = ReturnType<typeof createApiClient>;

interface CallResult<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/** The data of a successful call; a failed one throws `ApiError` built from its problem+json body. */
export async function unwrap<D>(call: Promise<CallResult<D>>): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) throw apiErrorFromBody(response.status, response.headers, error);
  return data as D;
}
