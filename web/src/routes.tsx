import { lazy, Suspense, type ReactNode } from "react";
import {
  IconBell,
  IconFingerprint,
  IconLayoutDashboard,
  IconPlugConnected,
  IconScale,
  IconSettings,
  IconShieldExclamation,
} from "@tabler/icons-react";
import { Route, Routes } from "react-router";

import { AccountMenu } from "./auth/AccountMenu";
import { LoginPage } from "./auth/LoginPage";
import { RequireSession } from "./auth/RequireSession";
// The inventory is the page people live in: it ships with the app shell, not as a lazy chunk (one round trip less).
import InventoryPage from "./discovery/inventory/InventoryPage";
import { AppLayout, type NavItem } from "./ui/AppLayout";
import { NotFoundPage } from "./ui/NotFoundPage";
import { LoadingState } from "./ui/states";

const OverviewPage = lazy(() => import("./discovery/overview/OverviewPage"));
const NhiDetailPage = lazy(() => import("./discovery/nhi/NhiDetailPage"));
const FindingsPage = lazy(() => import("./discovery/findings/FindingsPage"));
const AlertsPage = lazy(() => import("./analytics/AlertsPage"));
const ConnectorsPage = lazy(() => import("./discovery/connectors/ConnectorsPage"));
const AuditPage = lazy(() => import("./audit/AuditPage"));
const SettingsPage = lazy(() => import("./auth/settings/SettingsPage"));
const UsersPanel = lazy(() => import("./auth/settings/UsersPanel"));
const ApiKeysPanel = lazy(() => import("./auth/settings/ApiKeysPanel"));
const TenantPanel = lazy(() => import("./auth/settings/TenantPanel"));

export const NAVIGATION: NavItem[] = [
  { to: "/", label: "Overview", icon: IconLayoutDashboard },
  { to: "/inventory", label: "Inventory", icon: IconFingerprint, alsoActiveOn: ["/nhis/*"] },
  { to: "/findings", label: "Findings", icon: IconShieldExclamation },
  { to: "/alerts", label: "Alerts", icon: IconBell },
  { to: "/connectors", label: "Connectors", icon: IconPlugConnected },
  { to: "/audit", label: "Audit log", icon: IconScale },
  { to: "/settings", label: "Settings", icon: IconSettings },
];

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<LoadingState />}>{children}</Suspense>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireSession>
            <AppLayout nav={NAVIGATION} account={<AccountMenu />} />
          </RequireSession>
        }
      >
        <Route
          index
          element={
            <Lazy>
              <OverviewPage />
            </Lazy>
          }
        />
        <Route path="inventory" element={<InventoryPage />} />
        <Route
          path="nhis/:id"
          element={
            <Lazy>
              <NhiDetailPage />
            </Lazy>
          }
        />
        <Route
          path="findings"
          element={
            <Lazy>
              <FindingsPage />
            </Lazy>
          }
        />
        <Route
          path="alerts"
          element={
            <Lazy>
              <AlertsPage />
            </Lazy>
          }
        />
        <Route
          path="connectors"
          element={
            <Lazy>
              <ConnectorsPage />
            </Lazy>
          }
        />
        <Route
          path="audit"
          element={
            <Lazy>
              <AuditPage />
            </Lazy>
          }
        />
        <Route
          path="settings"
          element={
            <Lazy>
              <SettingsPage />
            </Lazy>
          }
        >
          <Route
            path="users"
            element={
              <Lazy>
                <UsersPanel />
              </Lazy>
            }
          />
          <Route
            path="api-keys"
            element={
              <Lazy>
                <ApiKeysPanel />
              </Lazy>
            }
          />
          <Route
            path="tenant"
            element={
              <Lazy>
                <TenantPanel />
              </Lazy>
            }
          />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
