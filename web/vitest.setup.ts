import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { notifications } from "@mantine/notifications";
import { afterEach } from "vitest";

// jsdom lacks the layout APIs Mantine reads; these answer like a desktop browser with no preference.
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: (window as unknown as { __phone?: boolean }).__phone === true && query.includes("max-width"),
      media: query,
      onchange: null,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      addListener: () => undefined,
      removeListener: () => undefined,
      dispatchEvent: () => false,
    }) as MediaQueryList;
}

// findBy*/waitFor give up after 1 s by default, too short on a busy shared machine.
configure({ asyncUtilTimeout: 5_000 });

class ResizeObserverStub {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
window.ResizeObserver ??= ResizeObserverStub as unknown as typeof ResizeObserver;
Element.prototype.scrollIntoView ??= () => undefined;

afterEach(() => {
  cleanup();
  // Files share one environment (isolate: false), and Mantine keeps notifications in a module-level store.
  notifications.clean();
  window.localStorage.clear();
  (window as unknown as { __phone?: boolean }).__phone = false;
});
