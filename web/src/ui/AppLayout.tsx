import { useEffect, useRef, type ReactNode } from "react";
import { AppShell, Burger, Group, NavLink, ScrollArea } from "@mantine/core";
import { useDisclosure, useMediaQuery } from "@mantine/hooks";
import type { Icon } from "@tabler/icons-react";
import { Link, matchPath, Outlet, useLocation } from "react-router";

import { Brand } from "./Brand";
import { ThemeToggle } from "./ThemeToggle";

export interface NavItem {
  to: string;
  label: string;
  icon: Icon;
  /** Also active on these path patterns (e.g. /nhis/:id under Inventory). */
  alsoActiveOn?: string[];
}

function isActive(item: NavItem, pathname: string): boolean {
  const patterns = [item.to === "/" ? "/" : `${item.to}/*`, ...(item.alsoActiveOn ?? [])];
  return patterns.some((pattern) => matchPath({ path: pattern, end: pattern === "/" }, pathname) !== null);
}

/** The console's frame: header, navigation (a drawer below the `sm` breakpoint), skip link, main region. */
export function AppLayout({ nav, account }: { nav: NavItem[]; account: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure(false);
  const phone = useMediaQuery("(max-width: 48em)", false, { getInitialValueInEffect: false });
  // A collapsed drawer is only moved off-screen; inert keeps its links out of the tab order and the a11y tree.
  const navigationHidden = phone && !opened;
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    close();
    // Moving focus to the new page tells keyboard and screen-reader users that the page changed.
    if (firstRender.current) firstRender.current = false;
    else main.current?.focus();
  }, [pathname, close]);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 232, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding={{ base: "sm", sm: "lg" }}
    >
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? "Close navigation" : "Open navigation"}
              aria-expanded={opened}
              aria-controls="primary-navigation"
            />
            <Link to="/" aria-label="Nexora overview" style={{ color: "inherit", textDecoration: "none" }}>
              <Brand />
            </Link>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ThemeToggle />
            {account}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar
        p="xs"
        id="primary-navigation"
        aria-label="Primary"
        {...(navigationHidden ? { inert: "", "aria-hidden": true } : {})}
      >
        <AppShell.Section grow component={ScrollArea}>
          <div>
            {nav.map((item) => {
              const active = isActive(item, pathname);
              const ItemIcon = item.icon;
              return (
                <NavLink
                  key={item.to}
                  component={Link}
                  to={item.to}
                  label={item.label}
                  leftSection={<ItemIcon size={18} stroke={1.6} />}
                  active={active}
                  aria-current={active ? "page" : undefined}
                  variant="light"
                  styles={{ root: { borderRadius: "var(--mantine-radius-sm)" } }}
                />
              );
            })}
          </div>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
