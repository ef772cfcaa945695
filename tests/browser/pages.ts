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

/** The id CDP knows the origin's service worker registration by (for ServiceWorker.deliverPushMessage). */
export async function serviceWorkerRegistrationId(cdp: CDPSession, origin: string): Promise<string> {
  const registration = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }: { registrations: { registrationId: string; scopeURL: string }[] }) => {
      const ours = registrations.find((entry) => entry.scopeURL === `${origin}/`);
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  return registration;
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
