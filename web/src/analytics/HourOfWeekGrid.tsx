import { Text } from "@mantine/core";

import classes from "./HourOfWeekGrid.module.css";
import { HOURS_PER_WEEK } from "./profile";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, "0")}:00`;
}

/** When an identity is usually active: 168 hour-of-week buckets (Monday 00:00 UTC first) as a 7 x 24 grid. */
export function HourOfWeekGrid({ hours }: { hours: number[] }) {
  const busiest = Math.max(0, ...hours);
  const peak = hours.indexOf(busiest);
  const summary =
    busiest > 0
      ? `Activity by hour of the week (UTC); busiest ${DAYS[Math.floor(peak / 24)]} ${hourLabel(peak % 24)}.`
      : "Activity by hour of the week (UTC); nothing recorded yet.";
  return (
    <div>
      <div className={classes.grid} role="img" aria-label={summary} data-testid="hour-of-week">
        <span />
        {Array.from({ length: 24 }, (_, hour) => (
          <span key={hour} className={classes.hour} aria-hidden="true">
            {hour % 6 === 0 ? hour : ""}
          </span>
        ))}
        {DAYS.map((day, dayIndex) => [
          <span key={day} className={classes.day} aria-hidden="true">
            {day.slice(0, 3)}
          </span>,
          ...Array.from({ length: 24 }, (_, hour) => {
            const index = dayIndex * 24 + hour;
            const value = hours[index] ?? 0;
            return (
              <span
                key={`${day}-${hour}`}
                className={classes.cell}
                data-active={value > 0 || undefined}
                data-testid="hour-cell"
                title={`${day} ${hourLabel(hour)} UTC: ${Math.round(value * 100) / 100}`}
                style={value > 0 ? { opacity: 0.15 + 0.85 * (value / busiest) } : undefined}
              />
            );
          }),
        ])}
      </div>
      <Text size="xs" c="dimmed" mt={4}>
        {HOURS_PER_WEEK} hours, UTC; darker is busier (recent weeks count more).
      </Text>
    </div>
  );
}
