import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { expect } from "vitest";

/** Signs in through the sign-in page and waits for the page it lands on. */
export async function signInThroughPage(page: Page, baseUrl: string, username: string, password: string) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${baseUrl}/projects`);
}

/** The page fits a phone's width: nothing sticks out sideways to scroll to. */
export async function expectFitsPhone(page: Page, width = 390) {
  const scrollWidth = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? Infinity);
  expect(scrollWidth, `${page.url()} is ${scrollWidth}px wide`).toBeLessThanOrEqual(width);
}

/** Waits until Remix has hydrated the page, so client-side handlers (uploads, fetchers) are live. */
export async function waitForHydration(page: Page) {
  await page.waitForFunction(() => (window as unknown as { __remixRouter?: { state: { initialized: boolean } } }).__remixRouter?.state.initialized === true);
}

/** Waits until the service worker controls the page (its first install claims the open pages). */
export async function waitForServiceWorker(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker?.controller?.state === "activated", undefined, { timeout: 15_000 });
}

interface WorkerVersion {
  registrationId: string;
  runningStatus: "stopped" | "starting" | "running" | "stopping";
  status: "new" | "installing" | "installed" | "activating" | "activated" | "redundant";
}

export interface PushDeliverer {
  /**
   * Sends `data` as the push service would, once the origin's service worker is seen running,
   * until `arrived` says the worker acted on it: up to three pushes, 15 s apart. CDP's push
   * now and then never reaches a running worker (one full run in three on a loaded machine,
   * no error reported by the worker or CDP); a worker that never acts on it fails all three.
   */
  deliver(data: string, arrived: () => Promise<boolean>): Promise<void>;
  /** What CDP said of the service worker: its versions and the errors it reported (for a failing test's message). */
  report(): string;
}

/**
 * Pushes to the origin's service worker through CDP (ServiceWorker.deliverPushMessage), as
 * its push service would. CDP drops a push whose worker does not start, without a word, so
 * the worker is started first and seen running; its errors are kept for the test's message.
 */
export async function pushDeliverer(cdp: CDPSession, origin: string): Promise<PushDeliverer> {
  const scopeURL = `${origin}/`;
  let registrationId: string | undefined;
  const versions = new Map<string, WorkerVersion>();
  const errors: string[] = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
    const ours = registrations.find((entry) => entry.scopeURL === scopeURL && !entry.isDeleted);
    if (ours) registrationId = ours.registrationId;
  });
  cdp.on("ServiceWorker.workerVersionUpdated", ({ versions: updated }: { versions: (WorkerVersion & { versionId: string })[] }) => {
    for (const version of updated) versions.set(version.versionId, version);
  });
  cdp.on("ServiceWorker.workerErrorReported", ({ errorMessage }: { errorMessage: { errorMessage: string; sourceURL: string; lineNumber: number } }) => {
    errors.push(`${errorMessage.errorMessage} (${errorMessage.sourceURL}:${errorMessage.lineNumber})`);
  });
  await cdp.send("ServiceWorker.enable");
  const running = () =>
    [...versions.values()].some((version) => version.registrationId === registrationId && version.status === "activated" && version.runningStatus === "running");
  const report = () =>
    `registration ${registrationId ?? "not seen"}; versions ${JSON.stringify([...versions.values()])}; errors ${JSON.stringify(errors)}`;
  return {
    report,
    async deliver(data, arrived) {
      const attempts = 3;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        await expect.poll(() => registrationId, { timeout: 30_000, message: "the origin's service worker registration" }).toBeDefined();
        await cdp.send("ServiceWorker.startWorker", { scopeURL });
        await expect.poll(running, { timeout: 30_000, message: `the service worker running: ${report()}` }).toBe(true);
        await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId: registrationId!, data });
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          if (await arrived()) return;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      throw new Error(`${attempts} pushes, 15 s apart, and the service worker never acted on one. As CDP saw it: ${report()}`);
    },
  };
}

/** Taps the origin's first notification: its service worker gets the notificationclick a tap gives. */
export async function tapNotification(context: BrowserContext, origin: string): Promise<void> {
  const worker = context.serviceWorkers().find((entry) => entry.url().startsWith(origin))!;
  await worker.evaluate(async () => {
    // Runs in the service worker: its globals are not the page's types.
    const scope = self as unknown as {
      registration: ServiceWorkerRegistration;
      NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
    } & EventTarget;
    const [notification] = await scope.registration.getNotifications();
    scope.dispatchEvent(new scope.NotificationEvent("notificationclick", { notification }));
  });
}
