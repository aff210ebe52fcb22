import { describe, expect, it } from "vitest";

import { graph } from "../test/discoveryData";
import { graphElements, shapeOf, viaLabel } from "./graphElements";

describe("graph elements", () => {
  it("makes one node per identity with its risk band and the root marked", () => {
    const data = graph("00000000-0000-4000-8000-0000000000ff");

    const { nodes } = graphElements(data);

    expect(nodes.map((node) => [node.data.label, node.data.root, node.data.band, node.data.shape])).toEqual([
      ["svc-billing/AKIA…", true, "critical", "diamond"],
      ["svc-billing", false, "medium", "ellipse"],
      ["billing-admin", false, "high", "ellipse"],
    ]);
  });

  it("keeps only edges between drawn nodes, once each", () => {
    const data = graph("00000000-0000-4000-8000-0000000000fe");
    const [root, holder] = data.nodes;
    data.edges.push(
      { source: holder!.id, target: root!.id, kind: "has_credential" },
      { source: holder!.id, target: "00000000-0000-4000-8000-00000000dead", kind: "can_assume" },
    );

    const { edges } = graphElements(data);

    expect(edges.map((edge) => edge.data.label)).toEqual(["has credential", "can assume"]);
  });

  it("shapes nodes by what they are and names how each was reached", () => {
    expect(shapeOf("leaked_secret")).toBe("hexagon");
    expect(shapeOf("repository")).toBe("round-rectangle");
    expect(shapeOf("some_future_kind")).toBe("ellipse");
    expect(viaLabel("held_by")).toBe("holds the credential");
    expect(viaLabel(null)).toBe("the identity itself");
  });
});
