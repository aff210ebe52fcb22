import { createTheme, localStorageColorSchemeManager, type MantineColorsTuple } from "@mantine/core";

// A calm blue whose 6th/7th shades keep white text above WCAG AA contrast.
const nexora: MantineColorsTuple = [
  "#e8f1ff",
  "#d0e0ff",
  "#a0beff",
  "#6d9aff",
  "#437bfe",
  "#2968fe",
  "#195efe",
  "#074de3",
  "#0044cc",
  "#003ab4",
];

export const theme = createTheme({
  primaryColor: "nexora",
  primaryShade: { light: 7, dark: 5 },
  colors: { nexora },
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  fontFamilyMonospace: 'ui-monospace, "JetBrains Mono", "SFMono-Regular", Menlo, Consolas, monospace',
  headings: { fontWeight: "650" },
  defaultRadius: "sm",
  cursorType: "pointer",
  focusRing: "auto",
  components: {
    Table: { defaultProps: { verticalSpacing: "xs", horizontalSpacing: "sm", fz: "sm" } },
    // Sentence-case badges read as labels, not shouting; they sit next to dense table text.
    Badge: { defaultProps: { radius: "sm", tt: "none" } },
    Tooltip: { defaultProps: { withArrow: true, openDelay: 300 } },
  },
});

export const colorSchemeManager = localStorageColorSchemeManager({ key: "nexora.color-scheme" });
