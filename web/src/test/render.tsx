import type { ReactElement } from "react";
import { MantineProvider, mergeThemeOverrides } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";

import { ApiProvider, createQueryClient } from "../api/ApiProvider";
import { SessionManager } from "../auth/session";
import { theme as consoleTheme } from "../ui/theme";
import { FakeApi } from "./fakeApi";
import { MemoryLocks, MemoryStorage } from "./memoryStorage";

export const BASE = "http://console.test";

// Dialogs and menus open without their animations, so tests do not wait on transitions.
const theme = mergeThemeOverrides(consoleTheme, {
  components: {
    Modal: { defaultProps: { transitionProps: { duration: 0 } } },
    Menu: { defaultProps: { transitionProps: { duration: 0 } } },
    Tooltip: { defaultProps: { transitionProps: { duration: 0 } } },
    Drawer: { defaultProps: { transitionProps: { duration: 0 } } },
  },
});

function Location() {
  const location = useLocation();
  return (
    <div data-testid="location" data-search={location.search}>
      {location.pathname}
    </div>
  );
}

/**
 * Render `element` at `path` inside the console's providers, talking to a `FakeApi`. With `signedIn`
 * the session starts signed in (as after a reload). Extra routes let a test observe redirects.
 */
export function renderConsole(
  element: ReactElement,
  {
    api = new FakeApi(),
    path = "/",
    route = "*",
    signedIn = true,
    routes = {},
  }: { api?: FakeApi; path?: string; route?: string; signedIn?: boolean; routes?: Record<string, ReactElement> } = {},
) {
  const storage = new MemoryStorage();
  if (signedIn) {
    const pair = api.issue();
    storage.setItem(
      "nexora.session",
      JSON.stringify({
        accessToken: pair.access_token,
        refreshToken: pair.refresh_token,
        renewAt: Date.now() + 600_000,
      }),
    );
  }
  const session = new SessionManager({ baseUrl: BASE, storage, fetch: api.fetch, locks: new MemoryLocks() });
  const queryClient = createQueryClient();
  const result = render(
    <MantineProvider theme={theme} env="test">
      <Notifications />
      <ApiProvider session={session} queryClient={queryClient} baseUrl={BASE}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path={route} element={element} />
            {Object.entries(routes).map(([pattern, routeElement]) => (
              <Route key={pattern} path={pattern} element={routeElement} />
            ))}
          </Routes>
          <Location />
        </MemoryRouter>
      </ApiProvider>
    </MantineProvider>,
  );
  return { ...result, api, session, storage, queryClient };
}
