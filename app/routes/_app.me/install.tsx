import { useSyncExternalStore } from "react";
import { installed, installPrompt } from "~/components/pwa";
import { Button, Card } from "~/components/ui";

/** An Install button where the browser offers to install the app (Chromium's beforeinstallprompt). */
export function InstallSection() {
  const prompt = useSyncExternalStore(installPrompt.subscribe, installPrompt.get, () => null);
  const done = useSyncExternalStore(installed.subscribe, installed.get, () => false);
  if (!prompt && !done) return null;
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">The app</h2>
      {done ? (
        <p className="text-sm text-stone-600">Cactus is installed on this device.</p>
      ) : (
        <>
          <p className="mb-3 text-sm text-stone-600">Install Cactus: it opens from the home screen, full screen, and works offline.</p>
          <Button
            type="button"
            className="w-full"
            onClick={async () => {
              await prompt!.prompt();
              const { outcome } = await prompt!.userChoice;
              installPrompt.set(null);
              if (outcome === "accepted") installed.set(true);
            }}
          >
            Install Cactus
          </Button>
        </>
      )}
    </Card>
  );
}
