import { useEffect, useSyncExternalStore } from "react";
import { startPwa, updateReady } from "./pwa";
import { Button } from "./ui";

/** Registers the service worker, and says so when a new version of the app is ready. */
export function UpdatePrompt() {
  useEffect(startPwa, []);
  const reload = useSyncExternalStore(updateReady.subscribe, updateReady.get, () => null);
  if (!reload) return null;
  return (
    <div
      role="status"
      className="fixed inset-x-3 bottom-[calc(5rem+env(safe-area-inset-bottom))] z-20 mx-auto flex max-w-md items-center justify-between gap-3 rounded-xl bg-stone-900 px-4 py-2 text-sm text-white shadow-lg"
    >
      <span>A new version is ready</span>
      <Button type="button" variant="secondary" onClick={reload}>
        Reload
      </Button>
    </div>
  );
}
