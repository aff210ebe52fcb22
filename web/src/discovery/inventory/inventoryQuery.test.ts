import { describe, expect, it } from "vitest";

import {
  activeFilterCount,
  apiFilters,
  EMPTY_QUERY,
  inventorySearchParams,
  parseInventoryQuery,
  withChanges,
} from "./inventoryQuery";

const parse = (search: string) => parseInventoryQuery(new URLSearchParams(search));

describe("inventory query in the URL", () => {
  it("reads every filter, the sort and the page from the address", () => {
    const query = parse(
      "provider=aws&provider=github&kind=access_key&environment=prod&owner=payments&risk_min=50&risk_max=90" +
        "&stale=true&has_findings=false&q=billing&sort=name&limit=100&cursor=eyJzIjoibmFtZSJ9",
    );

    expect(query).toEqual({
      provider: ["aws", "github"],
      kind: ["access_key"],
      environment: ["prod"],
      owner: "payments",
      riskMin: 50,
      riskMax: 90,
      stale: true,
      hasFindings: false,
      q: "billing",
      connectorId: null,
      sort: "name",
      limit: 100,
      cursor: "eyJzIjoibmFtZSJ9",
    });
  });

  it("writes a query back to the same address, leaving defaults out", () => {
    const search = "provider=aws&kind=iam_role&risk_min=10&stale=false&q=ci+deploy&sort=-last_used";

    expect(inventorySearchParams(parse(search)).toString()).toBe(search);
    expect(inventorySearchParams(EMPTY_QUERY).toString()).toBe("");
  });

  it("drops hostile or unusable values instead of sending them", () => {
    const query = parse(
      "provider=<script>&kind=access_key,../etc&risk_min=-5&risk_max=1000&stale=maybe&sort=DROP TABLE" +
        "&limit=100000&cursor=%22%3E%3Cimg&connector=not-a-uuid&q=" +
        "x".repeat(500),
    );

    expect(query.provider).toEqual([]);
    expect(query.kind).toEqual(["access_key"]);
    expect(query.riskMin).toBeNull();
    expect(query.riskMax).toBeNull();
    expect(query.stale).toBeNull();
    expect(query.sort).toBe("-risk");
    expect(query.limit).toBe(50);
    expect(query.cursor).toBeNull();
    expect(query.connectorId).toBeNull();
    expect(query.q).toHaveLength(200);
  });

  it("puts a reversed risk range the right way round", () => {
    expect(parse("risk_min=80&risk_max=20")).toMatchObject({ riskMin: 20, riskMax: 80 });
  });

  it("starts at the first page when a filter or the sort changes, but not when only the page does", () => {
    const onPage3 = { ...EMPTY_QUERY, cursor: "abc" };

    expect(withChanges(onPage3, { kind: ["access_key"] }).cursor).toBeNull();
    expect(withChanges(onPage3, { sort: "name" }).cursor).toBeNull();
    expect(withChanges(EMPTY_QUERY, { cursor: "def" }).cursor).toBe("def");
  });

  it("counts the filters that narrow the list and maps them to the API's names", () => {
    const query = parse("provider=aws&kind=access_key&kind=iam_user&owner=none&risk_min=75&q=x&sort=name");

    expect(activeFilterCount(query)).toBe(6);
    expect(apiFilters(query)).toEqual({
      provider: ["aws"],
      kind: ["access_key", "iam_user"],
      environment: undefined,
      owner: "none",
      risk_min: 75,
      risk_max: undefined,
      stale: undefined,
      has_findings: undefined,
      q: "x",
      connector_id: undefined,
    });
  });
});
