import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "./ui/global.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { createQueryClient } from "./api/ApiProvider";
import { createApiClient } from "./api/client";
import { App } from "./App";
import { SessionManager } from "./auth/session";
import { prefetchInventory } from "./discovery/prefetch";

const session = new SessionManager({ baseUrl: window.location.origin, storage: window.localStorage });
const queryClient = createQueryClient();
if (session.getState().status === "signed-in") {
  prefetchInventory(queryClient, createApiClient(session, window.location.origin), window.location);
}
const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <App session={session} queryClient={queryClient} />
  </StrictMode>,
);
