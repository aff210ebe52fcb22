import { describe, expect, it } from "vitest";

import { alertsSearchParams, DEFAULT_VIEW, parseAlertsView } from "./alertsQuery";

const parse = (search: string) => parseAlertsView(new URLSearchParams(search));
const ALERT = "00000000-0000-4000-8000-00000000a001";

describe("alerts filters in the URL", () => {
  it("defaults to the alerts that still need someone", () => {
    expect(parse("")).toEqual(DEFAULT_VIEW);
    expect(alertsSearchParams(DEFAULT_VIEW).toString()).toBe("");
  });

  it("reads every filter and writes it back the same way", () => {
    const search = `status=resolved&status=false_positive&severity=critical&severity=high&detector=anomaly.new_country&tactic=TA0006&open=${ALERT}`;
    const view = parse(search);

    expect(view).toEqual({
      status: ["resolved", "false_positive"],
      severity: ["critical", "high"],
      detector: "anomaly.new_country",
      tacticId: "TA0006",
      nhiId: null,
      open: ALERT,
    });
    expect(alertsSearchParams(view).toString()).toBe(search);
  });

  it("keeps 'every status' apart from the default", () => {
    expect(parse("status=all").status).toEqual([]);
    expect(alertsSearchParams({ ...DEFAULT_VIEW, status: [] }).toString()).toBe("status=all");
  });

  it("drops values it does not know instead of sending them", () => {
    expect(parse("status=deleted&severity=info&detector=<script>&tactic=TA9999&open=..%2F&nhi=x")).toEqual(
      DEFAULT_VIEW,
    );
  });
});
