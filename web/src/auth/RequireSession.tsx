import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { useSessionState } from "./useSessionState";

export interface LoginRedirectState {
  from?: string;
  message?: string | null;
}

/** Renders its children while signed in; otherwise sends the visitor to /login and back afterwards. */
export function RequireSession({ children }: { children: ReactNode }) {
  const state = useSessionState();
  const location = useLocation();
  if (state.status === "signed-out") {
    const redirect: LoginRedirectState = { from: `${location.pathname}${location.search}`, message: state.message };
    return <Navigate to="/login" replace state={redirect} />;
  }
  return <>{children}</>;
}

/** Only same-origin paths: a crafted state must not send the user elsewhere after sign-in. */
export function safeReturnPath(from: unknown): string {
  if (typeof from !== "string" || !from.startsWith("/") || from.startsWith("//") || from.startsWith("/\\")) return "/";
  if (from.startsWith("/login")) return "/";
  return from;
}
