import { Tabs } from "@mantine/core";
import { IconBuilding, IconKey, IconUsers } from "@tabler/icons-react";
import { Navigate, Outlet, useLocation, useNavigate } from "react-router";

import { hasRole } from "../roles";
import { useMe } from "../useMe";
import { PageHeader } from "../../ui/PageHeader";
import { ErrorState, LoadingState } from "../../ui/states";

const SECTIONS = [
  { value: "users", label: "Users and roles", icon: IconUsers, adminOnly: true },
  { value: "api-keys", label: "API keys", icon: IconKey, adminOnly: false },
  { value: "tenant", label: "Tenant", icon: IconBuilding, adminOnly: false },
] as const;

/** Settings: one tab per section, each a nested route (/settings/users, /settings/api-keys, /settings/tenant). */
export default function SettingsPage() {
  const me = useMe();
  const navigate = useNavigate();
  const { pathname } = useLocation();

  if (me.isPending) return <LoadingState />;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;

  const isAdmin = hasRole(me.data.roles, "admin");
  const sections = SECTIONS.filter((section) => isAdmin || !section.adminOnly);
  const current = sections.find((section) => pathname.startsWith(`/settings/${section.value}`));
  if (!current) return <Navigate to={`/settings/${sections[0]?.value ?? "api-keys"}`} replace />;

  return (
    <>
      <PageHeader
        title="Settings"
        description={
          isAdmin
            ? "Manage who can sign in, the API keys machines use, and your tenant."
            : "Manage your API keys and see your tenant's settings."
        }
      />
      <Tabs value={current.value} onChange={(value) => value && navigate(`/settings/${value}`)} keepMounted={false}>
        <Tabs.List mb="md" aria-label="Settings sections">
          {sections.map((section) => (
            <Tabs.Tab key={section.value} value={section.value} leftSection={<section.icon size={16} stroke={1.6} />}>
              {section.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value={current.value}>
          <Outlet />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
