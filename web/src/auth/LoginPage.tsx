import { useState, type FormEvent } from "react";
import { Alert, Box, Button, Center, Paper, PasswordInput, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { IconAlertTriangle, IconInfoCircle } from "@tabler/icons-react";
import { useMutation } from "@tanstack/react-query";
import { Navigate, useLocation } from "react-router";

import { useSession } from "../api/ApiProvider";
import { ApiError, errorMessage } from "../api/problem";
import { BrandMark } from "../ui/Brand";
import { ThemeToggle } from "../ui/ThemeToggle";
import { safeReturnPath, type LoginRedirectState } from "./RequireSession";
import { useSessionState } from "./useSessionState";

interface TenantChoice {
  id: string;
  name: string;
}

/** The tenants a 409 sign-in answer offers (its `tenants` member), or none. */
function tenantChoices(error: unknown): TenantChoice[] {
  if (!(error instanceof ApiError) || error.status !== 409) return [];
  const tenants = error.extensions.tenants;
  if (!Array.isArray(tenants)) return [];
  return tenants.filter(
    (item): item is TenantChoice =>
      typeof item === "object" && item !== null && typeof item.id === "string" && typeof item.name === "string",
  );
}

export function LoginPage() {
  const session = useSession();
  const state = useSessionState();
  const location = useLocation();
  const redirect = (location.state ?? {}) as LoginRedirectState;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [tenant, setTenant] = useState<string | null>(null);
  // The server names the tenants only once the password matched accounts in several of them.
  const [choices, setChoices] = useState<TenantChoice[]>([]);
  const signIn = useMutation({
    mutationFn: () => session.signIn(email.trim(), password, tenant ?? undefined),
    onError: (error) => {
      const offered = tenantChoices(error);
      if (offered.length > 1) setChoices(offered);
    },
  });
  const needsTenant = choices.length > 1;
  const choosing = needsTenant && tenantChoices(signIn.error).length > 1;

  if (state.status === "signed-in") return <Navigate to={safeReturnPath(redirect.from)} replace />;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  // After a failed attempt the old notice (e.g. "session expired") is no longer the news.
  const notice = signIn.isIdle ? (redirect.message ?? state.message) : null;

  return (
    <Box mih="100vh" bg="var(--mantine-color-body)">
      <Box pos="absolute" top={12} right={12}>
        <ThemeToggle />
      </Box>
      <Center mih="100vh" px="md">
        <Stack w="100%" maw={400} gap="lg">
          <Stack align="center" gap={6}>
            <BrandMark size={40} />
            <Title order={1} fz={24}>
              Sign in to Nexora
            </Title>
            <Text c="dimmed" size="sm" ta="center">
              Security for non-human identities
            </Text>
          </Stack>
          <Paper withBorder p="lg" radius="md" shadow="xs">
            <form onSubmit={onSubmit} noValidate aria-label="Sign in">
              <Stack gap="md">
                {notice && (
                  <Alert variant="light" color="blue" icon={<IconInfoCircle size={18} />} role="status">
                    {notice}
                  </Alert>
                )}
                {choosing && (
                  <Alert variant="light" color="blue" icon={<IconInfoCircle size={18} />} role="status">
                    This e-mail has an account in several tenants. Choose the tenant to sign in to.
                  </Alert>
                )}
                {signIn.isError && !choosing && (
                  <Alert variant="light" color="red" icon={<IconAlertTriangle size={18} />} role="alert">
                    {errorMessage(signIn.error)}
                  </Alert>
                )}
                <TextInput
                  label="E-mail"
                  type="email"
                  autoComplete="username"
                  required
                  autoFocus
                  value={email}
                  onChange={(event) => setEmail(event.currentTarget.value)}
                  maxLength={254}
                />
                <PasswordInput
                  label="Password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(event) => setPassword(event.currentTarget.value)}
                  maxLength={1024}
                />
                {needsTenant && (
                  <Select
                    label="Tenant"
                    required
                    data={choices.map((choice) => ({ value: choice.id, label: choice.name }))}
                    value={tenant}
                    onChange={setTenant}
                    allowDeselect={false}
                  />
                )}
                <Button
                  type="submit"
                  fullWidth
                  loading={signIn.isPending}
                  disabled={!email.trim() || !password || (needsTenant && !tenant)}
                >
                  Sign in
                </Button>
              </Stack>
            </form>
          </Paper>
        </Stack>
      </Center>
    </Box>
  );
}
