// npm run build, after `remix build`: the service worker into public/sw.js.
import path from "node:path";
import { bundleServiceWorker, writeServiceWorker } from "./service-worker-build";

await bundleServiceWorker();
const { count, size } = await writeServiceWorker(path.resolve(import.meta.dirname, "../public"));
console.log(`service worker: public/sw.js precaches ${count} files (${(size / 1024).toFixed(0)} KiB)`);
