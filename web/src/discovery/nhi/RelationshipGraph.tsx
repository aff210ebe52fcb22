/**
 * The relationship graph drawn with Cytoscape.js (loaded only on this tab). The root is at the top and each
 * row is one hop further away; colour is the risk band, shape is what a node is. The canvas is for the eye;
 * the same nodes are listed in a table below it for keyboards and screen readers.
 */
import { useEffect, useRef } from "react";
import { ActionIcon, Box, Group, Tooltip, useComputedColorScheme, useMantineTheme } from "@mantine/core";
import { IconFocusCentered, IconZoomIn, IconZoomOut } from "@tabler/icons-react";
import cytoscape, { type Core } from "cytoscape";

import type { GraphElements } from "../graphElements";

const MAX_FIT_ZOOM = 1.2;

const BAND_SHADE: Record<string, [string, number]> = {
  critical: ["red", 6],
  high: ["orange", 6],
  medium: ["yellow", 6],
  low: ["blue", 5],
  none: ["gray", 5],
};

export default function RelationshipGraph({
  elements,
  label,
  selected,
  onSelect,
  onOpen,
}: {
  elements: GraphElements;
  label: string;
  selected: string | null;
  onSelect: (id: string | null) => void;
  onOpen: (id: string) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const theme = useMantineTheme();
  const scheme = useComputedColorScheme("dark", { getInitialValueInEffect: false });
  const callbacks = useRef({ onSelect, onOpen });
  callbacks.current = { onSelect, onOpen };

  useEffect(() => {
    if (!container.current) return;
    const dark = scheme === "dark";
    const text = dark ? theme.colors.dark[0] : theme.colors.gray[8];
    const line = dark ? theme.colors.dark[3] : theme.colors.gray[5];
    const background = dark ? theme.colors.dark[7] : theme.white;
    const primary = theme.colors.nexora?.[dark ? 4 : 7] ?? theme.colors.blue[6];
    const colour = (band: string) => {
      const [name, shade] = BAND_SHADE[band] ?? ["gray", 5];
      return theme.colors[name]?.[shade] ?? theme.colors.gray[5];
    };
    const instance = cytoscape({
      container: container.current,
      elements: [
        ...elements.nodes.map((node) => ({ data: { ...node.data, colour: colour(node.data.band) } })),
        ...elements.edges,
      ],
      style: [
        {
          selector: "node",
          style: {
            "background-color": "data(colour)",
            shape: "data(shape)" as never,
            label: "data(label)",
            color: text,
            "font-size": 10,
            "text-valign": "bottom",
            "text-margin-y": 4,
            width: 24,
            height: 24,
            "border-width": 2,
            "border-color": background,
          },
        },
        {
          selector: "node[?root]",
          style: { width: 40, height: 40, "border-width": 4, "border-color": primary, "font-weight": "bold" },
        },
        { selector: "node:selected", style: { "border-width": 4, "border-color": primary } },
        {
          selector: "edge",
          style: {
            width: 1.5,
            "line-color": line,
            "target-arrow-color": line,
            "target-arrow-shape": "triangle",
            "curve-style": "bezier",
            label: "data(label)",
            "font-size": 8,
            // Edge labels only once zoomed in enough to read them; at a glance they are clutter.
            "min-zoomed-font-size": 9,
            color: text,
            "text-rotation": "autorotate",
            "text-background-color": background,
            "text-background-opacity": 0.85,
            "text-background-padding": "2px",
            "text-margin-y": -6,
          },
        },
      ],
      // A tree from the root down: each row is one hop further away.
      layout: {
        name: "breadthfirst",
        roots: elements.nodes.filter((node) => node.data.root).map((node) => node.data.id),
        directed: false,
        spacingFactor: 1.15,
        animate: false,
        padding: 24,
      },
      minZoom: 0.2,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      boxSelectionEnabled: false,
    });
    // A small graph fitted to the box would be drawn huge: cap the zoom so labels keep their size.
    if (instance.zoom() > MAX_FIT_ZOOM) {
      instance.zoom(MAX_FIT_ZOOM);
      instance.center();
    }
    instance.on("tap", "node", (event) => callbacks.current.onSelect(event.target.id()));
    instance.on("tap", (event) => {
      if (event.target === instance) callbacks.current.onSelect(null);
    });
    instance.on("dbltap", "node", (event) => callbacks.current.onOpen(event.target.id()));
    cy.current = instance;
    return () => {
      instance.destroy();
      cy.current = null;
    };
  }, [elements, scheme, theme]);

  useEffect(() => {
    const instance = cy.current;
    if (!instance) return;
    instance.nodes().unselect();
    if (selected) instance.getElementById(selected).select();
  }, [selected, elements]);

  const zoom = (factor: number) => {
    const instance = cy.current;
    if (!instance) return;
    instance.zoom({
      level: instance.zoom() * factor,
      renderedPosition: { x: instance.width() / 2, y: instance.height() / 2 },
    });
  };

  return (
    <Box pos="relative">
      <Box
        ref={container}
        role="img"
        aria-label={label}
        data-testid="relationship-graph"
        data-node-count={elements.nodes.length}
        data-edge-count={elements.edges.length}
        h={{ base: 340, sm: 460 }}
        style={{ borderRadius: "var(--mantine-radius-sm)", background: "var(--mantine-color-body)" }}
      />
      <Group gap={4} pos="absolute" top={8} right={8}>
        <Tooltip label="Zoom in">
          <ActionIcon variant="default" aria-label="Zoom in" onClick={() => zoom(1.25)}>
            <IconZoomIn size={16} />
          </ActionIcon>
        </Tooltip>
        <Tooltip label="Zoom out">
          <ActionIcon variant="default" aria-label="Zoom out" onClick={() => zoom(0.8)}>
            <IconZoomOut size={16} />
          </ActionIcon>
        </Tooltip>
        <Tooltip label="Fit to view">
          <ActionIcon variant="default" aria-label="Fit graph to view" onClick={() => cy.current?.fit(undefined, 24)}>
            <IconFocusCentered size={16} />
          </ActionIcon>
        </Tooltip>
      </Group>
    </Box>
  );
}
