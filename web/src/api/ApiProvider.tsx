import { createContext, useContext, useEffect, useMemo, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";

import { SessionManager } from "../auth/session";
import { ApiError } from "./problem";
import { createApiClient, type ApiClient } from "./client";

interface ApiContextValue {
  session: SessionManager;
  api: ApiClient;
}

const ApiContext = createContext<ApiContextValue | null>(null);

function shouldRetry(failureCount: number, error: unknown): boolean {
  // A 4xx will not change by asking again; network trouble and 5xx get two more tries.
  if (error instanceof ApiError && error.status < 500) return false;
  if (error instanceof Error && error.name === "SessionEndedError") return false;
  return failureCount < 2;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 30_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}

export function ApiProvider({
  session,
  queryClient,
  baseUrl,
  children,
}: {
  session: SessionManager;
  queryClient: QueryClient;
  baseUrl: string;
  children: ReactNode;
}) {
  const value = useMemo(() => ({ session, api: createApiClient(session, baseUrl) }), [session, baseUrl]);

  useEffect(() => {
    // Another user's data must never outlive the session that fetched it.
    let signedIn = session.getState().status === "signed-in";
    return session.subscribe(() => {
      const now = session.getState().status === "signed-in";
      if (signedIn && !now) queryClient.clear();
      signedIn = now;
    });
  }, [session, queryClient]);

  useEffect(() => {
    const onStorage = () => session.syncFromStorage();
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, [session]);

  return (
    <ApiContext.Provider value={value}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </ApiContext.Provider>
  );
}

function useApiContext(): ApiContextValue {
  const value = useContext(ApiContext);
  if (!value) throw new Error("ApiProvider is missing above this component");
  return value;
}

export function useApi(): ApiClient {
  return useApiContext().api;
}

export function useSession(): SessionManager {
  return useApiContext().session;
}
