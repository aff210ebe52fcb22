/**
 * The inventory's table cells as plain elements (styled by cells.module.css in Mantine's colours). They look
 * like the console's badges and bars but cost no component each, which keeps a page of rows cheap to render.
 */
import type { CSSProperties, ReactNode } from "react";
import { Link, useLocation } from "react-router";

import { Time } from "../ui/Time";
import classes from "./cells.module.css";
import { ENVIRONMENT_COLOR, kindLabel, providerLabel, riskBand } from "./labels";
import type { Nhi } from "./useNhis";

const PRIVILEGE_COLOR: Record<string, string> = { admin: "red", high: "orange", medium: "yellow", low: "blue" };

function palette(color: string): CSSProperties {
  return {
    "--chip-light": `var(--mantine-color-${color}-light)`,
    "--chip-text": `var(--mantine-color-${color}-light-color)`,
    "--chip-outline": `var(--mantine-color-${color}-outline)`,
    "--chip-filled": `var(--mantine-color-${color}-filled)`,
  } as CSSProperties;
}

export function Chip({
  color,
  variant = "light",
  label,
  children,
}: {
  color: string;
  variant?: "light" | "outline" | "dot";
  label?: string;
  children: ReactNode;
}) {
  return (
    <span className={classes.chip} data-variant={variant} style={palette(color)} aria-label={label}>
      {children}
    </span>
  );
}

export function IdentityCell({ nhi }: { nhi: Nhi }) {
  const location = useLocation();
  return (
    <span className={classes.stack}>
      <Link to={`/nhis/${nhi.id}`} state={{ from: `${location.pathname}${location.search}` }} className={classes.name}>
        {nhi.name}
      </Link>
      <span className={classes.sub} title={nhi.external_id}>
        {kindLabel(nhi.kind)} · {nhi.external_id}
      </span>
    </span>
  );
}

export function ProviderCell({ nhi }: { nhi: Nhi }) {
  return (
    <span className={classes.stack}>
      <span className={classes.nowrap}>
        {providerLabel(nhi.provider)}{" "}
        <span className={classes.sub} style={{ display: "inline" }}>
          {nhi.account}
        </span>
      </span>
      <Chip
        color={ENVIRONMENT_COLOR[nhi.environment] ?? "gray"}
        variant="dot"
        label={`Environment ${nhi.environment}${nhi.environment_overridden ? ", set by a person" : ""}`}
      >
        {nhi.environment}
        {nhi.environment_overridden ? " (set)" : ""}
      </Chip>
    </span>
  );
}

export function OwnerCell({ owner }: { owner: string | null }) {
  return owner ? (
    <span className={classes.owner} title={owner}>
      {owner}
    </span>
  ) : (
    <span className={classes.unowned}>unowned</span>
  );
}

export function PrivilegeCell({ level }: { level: string }) {
  return (
    <Chip color={PRIVILEGE_COLOR[level] ?? "gray"} variant="outline">
      {level}
    </Chip>
  );
}

/** A 0-100 score as a number and a bar in its band's colour; the band is named for screen readers. */
export function RiskCell({ score }: { score: number }) {
  const band = riskBand(score);
  return (
    <span className={classes.risk} aria-label={`Risk ${score} of 100, ${band.label.toLowerCase()}`}>
      <span className={classes.score}>{score}</span>
      <span className={classes.track} aria-hidden="true">
        <span
          className={classes.fill}
          style={{ ...palette(band.color), width: `${Math.max(score, 2)}%`, display: "block" }}
        />
      </span>
    </span>
  );
}

export function FindingsCell({ count }: { count: number }) {
  return count > 0 ? (
    <Chip color="red" label={`${count} open findings`}>
      {count}
    </Chip>
  ) : (
    <span className={classes.dimmed} aria-label="no open findings">
      0
    </span>
  );
}

export function TimeCell({ value, empty }: { value: string | null; empty?: string }) {
  return (
    <span className={classes.nowrap}>
      {value ? <Time value={value} /> : <span className={classes.dimmed}>{empty ?? "—"}</span>}
    </span>
  );
}
