import { Button, Paper } from "@mantine/core";
import { IconMapOff } from "@tabler/icons-react";
import { Link } from "react-router";

import { PageHeader } from "./PageHeader";
import { EmptyState } from "./states";

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Paper withBorder>
        <EmptyState
          icon={<IconMapOff size={22} stroke={1.6} />}
          title="There is no page at this address"
          description="The link may be mistyped or the page may have moved."
          action={
            <Button component={Link} to="/" variant="default" size="xs">
              Go to the overview
            </Button>
          }
        />
      </Paper>
    </>
  );
}
