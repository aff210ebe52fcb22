/**
 * The relationship graph as Cytoscape elements: one node per reachable identity (coloured by risk band,
 * shaped by what it is), one edge per relationship between two of them. Pure, so it is tested without a canvas.
 */
import type { NhiGraph } from "./useNhis";
import { kindLabel, riskBand } from "./labels";

export type NodeShape = "ellipse" | "round-rectangle" | "diamond" | "hexagon";

export interface GraphNodeData {
  id: string;
  label: string;
  kind: string;
  kindLabel: string;
  risk: number;
  band: string;
  depth: number;
  via: string | null;
  root: boolean;
  shape: NodeShape;
}

export interface GraphEdgeData {
  id: string;
  source: string;
  target: string;
  kind: string;
  label: string;
}

export interface GraphElements {
  nodes: { data: GraphNodeData }[];
  edges: { data: GraphEdgeData }[];
}

const CREDENTIALS = new Set([
  "access_key",
  "service_account_key",
  "k8s_secret",
  "api_token",
  "deploy_key",
  "ci_secret",
  "vault_token",
  "certificate",
  "managed_secret",
]);
const RESOURCES = new Set([
  "workload",
  "repository",
  "oidc_provider",
  "instance_profile",
  "webhook",
  "auth_method",
  "policy",
]);

/** Identities are circles, credentials diamonds, leaked secrets hexagons, resources rounded boxes. */
export function shapeOf(kind: string): NodeShape {
  if (kind === "leaked_secret") return "hexagon";
  if (CREDENTIALS.has(kind)) return "diamond";
  if (RESOURCES.has(kind)) return "round-rectangle";
  return "ellipse";
}

const EDGE_LABELS: Record<string, string> = {
  can_assume: "can assume",
  grants_access_to: "grants access to",
  has_credential: "has credential",
  owns: "owns",
  trusts: "trusts",
  used_by: "used by",
  stored_in: "stored in",
  exposed_in: "exposed in",
  same_secret_as: "same secret as",
};

export function edgeLabel(kind: string): string {
  return EDGE_LABELS[kind] ?? kind.replace(/_/g, " ");
}

/** How a node was reached from the root ("held_by" is the way from a credential to its holder). */
export function viaLabel(via: string | null): string {
  if (via === null) return "the identity itself";
  if (via === "held_by") return "holds the credential";
  return edgeLabel(via);
}

const MAX_LABEL = 28;

function shortLabel(name: string): string {
  return name.length > MAX_LABEL ? `${name.slice(0, MAX_LABEL - 1)}…` : name;
}

export function graphElements(graph: NhiGraph): GraphElements {
  const ids = new Set(graph.nodes.map((node) => node.id));
  const nodes = graph.nodes.map((node) => ({
    data: {
      id: node.id,
      label: shortLabel(node.name),
      kind: node.kind,
      kindLabel: kindLabel(node.kind),
      risk: node.risk_score,
      band: riskBand(node.risk_score).band,
      depth: node.depth,
      via: node.via ?? null,
      root: node.id === graph.root,
      shape: shapeOf(node.kind),
    },
  }));
  const seen = new Set<string>();
  const edges = graph.edges
    .filter((edge) => ids.has(edge.source) && ids.has(edge.target))
    .map((edge) => ({
      data: {
        id: `${edge.source}:${edge.kind}:${edge.target}`,
        source: edge.source,
        target: edge.target,
        kind: edge.kind,
        label: edgeLabel(edge.kind),
      },
    }))
    .filter((edge) => (seen.has(edge.data.id) ? false : (seen.add(edge.data.id), true)));
  return { nodes, edges };
}
