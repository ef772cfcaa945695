// The service worker's build steps, for scripts/build-sw.ts (npm run build) and for the
// test that deploys a second version of the app over a first.
import path from "node:path";
import { build } from "esbuild";
import { injectManifest } from "workbox-build";

const ROOT = path.resolve(import.meta.dirname, "..");
/** app/sw bundled, before its precache list is written in. */
export const SERVICE_WORKER_BUNDLE = path.join(ROOT, "build/sw.bundle.js");

export async function bundleServiceWorker(): Promise<void> {
  await build({
    entryPoints: [path.join(ROOT, "app/sw/service-worker.ts")],
    bundle: true,
    format: "iife",
    target: "es2020",
    minify: true,
    outfile: SERVICE_WORKER_BUNDLE,
    // workbox logs every request in development builds.
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
}

/**
 * Writes `publicDir`/sw.js: the bundle with the list of files to precache (the hashed
 * build assets Remix wrote, the icons, the manifest, the offline page), each with its
 * content's hash as revision, so a build that changes a file changes sw.js and open
 * pages are offered the new version.
 */
export async function writeServiceWorker(publicDir: string): Promise<{ count: number; size: number }> {
  const { count, size, warnings } = await injectManifest({
    swSrc: SERVICE_WORKER_BUNDLE,
    swDest: path.join(publicDir, "sw.js"),
    globDirectory: publicDir,
    globPatterns: ["build/**/*.{js,css}", "offline.html", "manifest.webmanifest", "icons/*.{png,svg}"],
    // Remix's build names carry their content's hash already.
    dontCacheBustURLsMatching: /^build\//,
    maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
  });
  for (const warning of warnings) console.warn(`service worker: ${warning}`);
  return { count, size };
}
