import { useSyncExternalStore } from "react";

import { useSession } from "../api/ApiProvider";
import type { SessionState } from "./session";

/** The session's state, re-rendering on sign-in, renewal and sign-out (also from other tabs). */
export function useSessionState(): SessionState {
  const session = useSession();
  return useSyncExternalStore(session.subscribe, session.getState);
}
