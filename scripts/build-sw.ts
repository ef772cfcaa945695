// The service worker's build, after `remix build` (npm run build): app/sw/ bundled by
// esbuild, then workbox-build writes the list of files to precache into it: the hashed
// build assets Remix just wrote, the icons, the manifest and the offline page. Each
// file's revision is its content's hash, so a build that changes a file changes sw.js,
// and open pages are offered the new version.
import path from "node:path";
import { build } from "esbuild";
import { injectManifest } from "workbox-build";

const ROOT = path.resolve(import.meta.dirname, "..");
const bundled = path.join(ROOT, "build/sw.bundle.js");

await build({
  entryPoints: [path.join(ROOT, "app/sw/service-worker.ts")],
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  outfile: bundled,
  // workbox logs every request in development builds.
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

const { count, size, warnings } = await injectManifest({
  swSrc: bundled,
  swDest: path.join(ROOT, "public/sw.js"),
  globDirectory: path.join(ROOT, "public"),
  globPatterns: ["build/**/*.{js,css}", "offline.html", "manifest.webmanifest", "icons/*.{png,svg}"],
  // Remix's build names carry their content's hash already.
  dontCacheBustURLsMatching: /^build\//,
  maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
});
for (const warning of warnings) console.warn(`service worker: ${warning}`);
if (process.env.CACTUS_BUILD_QUIET !== "1") {
  console.log(`service worker: public/sw.js precaches ${count} files (${(size / 1024).toFixed(0)} KiB)`);
}
