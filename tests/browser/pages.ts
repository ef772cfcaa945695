import type { Page } from "playwright-core";
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
