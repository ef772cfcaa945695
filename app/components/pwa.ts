import type { Workbox } from "workbox-window";

// The page's side of the PWA: the service worker's registration (through workbox-window)
// and the browser's offer to install the app. Both begin before any page asks for them
// (root.tsx starts them at hydration), so these are small stores pages subscribe to.

type Listener = () => void;

function store<T>(initial: T) {
  let value = initial;
  const listeners = new Set<Listener>();
  return {
    get: () => value,
    set(next: T) {
      value = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener: Listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Set when a new version of the app waits: calling it activates that version and reloads. */
export const updateReady = store<(() => void) | null>(null);

/** The browser's install offer (Chromium's `beforeinstallprompt`), until used. */
export interface InstallPrompt extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: "accepted" | "dismissed" }>;
}
export const installPrompt = store<InstallPrompt | null>(null);
/** True once the app was installed from here (or runs installed). */
export const installed = store(false);

/** How often an open page asks whether a new version was deployed. */
const UPDATE_CHECK_MS = 60 * 60_000;

let started = false;

/** Registers /sw.js and listens for the install offer; once per page load. */
export function startPwa(): void {
  if (started || typeof window === "undefined") return;
  started = true;
  installed.set(window.matchMedia?.("(display-mode: standalone)").matches ?? false);
  window.addEventListener("beforeinstallprompt", (event) => {
    // Kept for the Install button on Me instead of the browser's own mini-bar.
    event.preventDefault();
    installPrompt.set(event as InstallPrompt);
  });
  window.addEventListener("appinstalled", () => {
    installPrompt.set(null);
    installed.set(true);
  });
  if (!("serviceWorker" in navigator)) return;
  void import("workbox-window").then(({ Workbox }) => register(new Workbox("/sw.js")));
}

function register(workbox: Workbox) {
  workbox.addEventListener("waiting", () => {
    updateReady.set(() => {
      // The new worker takes over, then the page loads again from it.
      workbox.addEventListener("controlling", () => window.location.reload());
      workbox.messageSkipWaiting();
    });
  });
  void workbox.register().catch((error: unknown) => console.warn("The service worker did not register:", error));
  const check = () => void workbox.update().catch(() => undefined);
  window.setInterval(check, UPDATE_CHECK_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
}
