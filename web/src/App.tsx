import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import type { QueryClient } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";

import { ApiProvider } from "./api/ApiProvider";
import type { SessionManager } from "./auth/session";
import { AppRoutes } from "./routes";
import { colorSchemeManager, theme } from "./ui/theme";

export function App({ session, queryClient }: { session: SessionManager; queryClient: QueryClient }) {
  return (
    <MantineProvider theme={theme} colorSchemeManager={colorSchemeManager} defaultColorScheme="auto">
      <Notifications position="top-right" limit={3} />
      <ApiProvider session={session} queryClient={queryClient} baseUrl={window.location.origin}>
        {/* Location changes render before the next click or keystroke: filter bars build the next URL from the
            current one, which a deferred (transition) render would leave stale for a moment. */}
        <BrowserRouter useTransitions={false}>
          <AppRoutes />
        </BrowserRouter>
      </ApiProvider>
    </MantineProvider>
  );
}
