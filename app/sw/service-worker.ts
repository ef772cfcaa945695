// The PWA's service worker (docs/design.md §6), bundled and given its precache list by
// scripts/build-sw.ts at `npm run build` into public/sw.js. It keeps the app's shell
// (the hashed build assets, icons, the offline page) so the app opens without a network,
// keeps the pages it has shown and the frames' thumbnails for when the network is gone,
// and shows the farm's web pushes.
import { clientsClaim } from "workbox-core";
import { CacheableResponsePlugin } from "workbox-cacheable-response";
import { ExpirationPlugin } from "workbox-expiration";
import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { CacheFirst, NetworkFirst } from "workbox-strategies";
import { notificationOptions, type PushMessage } from "../../domain/notifications";

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

const PAGES_CACHE = "cactus-pages";
const THUMBNAILS_CACHE = "cactus-thumbnails";
const OFFLINE_PAGE = "/offline.html";

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// The first install takes the open pages at once, so they work offline without a reload.
// A later version waits until the page's "Reload" asks for it (SKIP_WAITING below).
clientsClaim();

// Pages: the network first (they show live state), the copy of the last visit when the
// network is gone or too slow, and the offline page for a page never seen here.
const pages = new NetworkFirst({
  cacheName: PAGES_CACHE,
  networkTimeoutSeconds: 4,
  plugins: [
    // Only a page itself: never a redirect to the sign-in page, an error or a 404.
    new CacheableResponsePlugin({ statuses: [200] }),
    new ExpirationPlugin({ maxEntries: 50, maxAgeSeconds: 7 * 24 * 3600 }),
  ],
});
registerRoute(
  new NavigationRoute(
    async (options) => {
      try {
        return await pages.handle(options);
      } catch {
        return (await matchPrecache(OFFLINE_PAGE)) ?? Response.error();
      }
    },
    // Downloads and the event streams are no pages; sign-out must reach the server.
    { denylist: [/^\/api\//, /^\/logout/] },
  ),
);

// A frame's thumbnail never changes once the frame is rendered: kept a week, 600 at most.
registerRoute(
  ({ url, request }) => request.method === "GET" && /^\/api\/v1\/renders\/\d+\/frames\/\d+\/thumbnail$/.test(url.pathname),
  new CacheFirst({
    cacheName: THUMBNAILS_CACHE,
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 600, maxAgeSeconds: 7 * 24 * 3600, purgeOnQuotaError: true }),
    ],
  }),
);

// Signing out forgets the pages and thumbnails this device kept of the account.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method === "POST" && url.origin === self.location.origin && url.pathname === "/logout") {
    event.waitUntil(Promise.all([caches.delete(PAGES_CACHE), caches.delete(THUMBNAILS_CACHE)]));
  }
});

self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") void self.skipWaiting();
});

self.addEventListener("push", (event) => {
  let message: PushMessage;
  try {
    message = event.data?.json() as PushMessage;
  } catch {
    return;
  }
  if (!message?.title) return;
  event.waitUntil(self.registration.showNotification(message.title, notificationOptions(message)));
});

// A tap opens the page the notification is about: a window already there is focused, one
// of the app's windows is sent there, and else a new one opens.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data as { url?: string } | null)?.url ?? "/", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const there = windows.find((client) => client.url === target);
      if (there) return there.focus();
      const mine = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (mine) {
        const moved = await mine.navigate(target).catch(() => null);
        if (moved) return moved.focus();
      }
      return self.clients.openWindow(target);
    })(),
  );
});
