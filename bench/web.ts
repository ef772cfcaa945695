// npm run bench:web — how the PWA does on a phone: Lighthouse 12 (mobile: a mid-range
// phone, slow 4G, simulated) driving Debian's Chromium on the Renders page and on a render
// page of a 10 000-frame render, its performance and accessibility scores; that render
// page's server response time (p50 / p95 of 100 requests, the document as the server
// sends it) and its transfer size, next to what the same HTML would weigh uncompressed;
// and what the client's JavaScript weighs, with whether zod made it into it.
// Goals: performance ≥ 95, accessibility 100, p95 ≤ 150 ms.
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { blendBytes } from "../tests/helpers/fixtures";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../tests/helpers/browser";
import { callApi } from "./lib/api";
import { ensureProject, signIn } from "./lib/farm";
import { runBench } from "./lib/run";
import { buildServer, ROOT, startServerProcess, type ServerProcess } from "./lib/server-process";

const ADMIN = { username: "bench", password: "bench-web-password" };
const FRAMES = 10_000;
const REQUESTS = 100;

let server: ServerProcess | undefined;
let chrome: chromeLauncher.LaunchedChrome | undefined;

runBench({
  name: "web",
  stops: "Chromium and the server",
  async stop() {
    await chrome?.kill();
    await server?.stop();
  },
  async run(runDir) {
    await buildServer();
    server = await startServerProcess({ dataDir: path.join(runDir, "data"), admin: ADMIN });
    const url = server.url;
    const token = await signIn(url, ADMIN, "bench-web");
    const project = await ensureProject(url, token, "Bench");
    const upload = await fetch(`${url}/api/v1/projects/${project.id}/archives?filename=shot.blend`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" },
      body: new Uint8Array(blendBytes({ bodyBytes: 4000 })),
    });
    const archive = (await upload.json()) as { id: number };
    const render = await callApi<{ id: number }>(url, "POST", "/renders", token, { archiveId: archive.id, frames: `1-${FRAMES}` });
    const cookie = await sessionCookie(url);
    const renderPage = `${url}/renders/${render.id}`;

    console.log(`Server ${url}; render ${render.id} of ${FRAMES.toLocaleString("en")} frames.\n`);
    const times = await responseTimes(renderPage, cookie);
    const compressed = await documentBytes(renderPage, cookie, "br, gzip");
    const plain = await documentBytes(renderPage, cookie, "identity");
    const bundle = await clientBundle();

    await fs.mkdir(path.join(runDir, "chromium"), { recursive: true });
    chrome = await chromeLauncher.launch({ chromePath: CHROMIUM_PATH, chromeFlags: CHROMIUM_ARGS, userDataDir: path.join(runDir, "chromium") });
    const scores = [];
    for (const [name, page] of [["Renders", `${url}/renders`], [`Render (${FRAMES.toLocaleString("en")} frames)`, renderPage]]) {
      const result = await lighthouse(page, {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance", "accessibility"],
        extraHeaders: { Cookie: cookie },
      });
      const lhr = result!.lhr;
      const score = (id: string) => Math.round((lhr.categories[id]?.score ?? 0) * 100);
      const audit = (id: string) => lhr.audits[id]?.displayValue ?? "–";
      scores.push({ name, performance: score("performance"), accessibility: score("accessibility") });
      console.log(`${name}: performance ${score("performance")} (goal ≥ 95), accessibility ${score("accessibility")} (goal 100)`);
      console.log(
        `  first contentful paint ${audit("first-contentful-paint")}, largest ${audit("largest-contentful-paint")}, ` +
          `blocking ${audit("total-blocking-time")}, layout shift ${audit("cumulative-layout-shift")}, transferred ${audit("total-byte-weight")}`,
      );
      // Where a slow score comes from: the main thread's work and the scripts that cost most.
      const bootup = (lhr.audits["bootup-time"]?.details as { items?: { url: string; scripting: number }[] } | undefined)?.items ?? [];
      const costly = bootup
        .slice(0, 3)
        .map((item) => `${item.url.replace(url, "") || "(page)"} ${Math.round(item.scripting)} ms`)
        .join(", ");
      console.log(`  main thread ${audit("mainthread-work-breakdown")}; scripting: ${costly || "–"}`);
      for (const failed of Object.values(lhr.audits).filter((entry) => entry.score === 0 && lhr.categories.accessibility.auditRefs.some((ref) => ref.id === entry.id))) {
        console.log(`  accessibility: ${failed.title}`);
      }
    }
    console.log(`\nThe render page's document, ${REQUESTS} requests one after another (the server at rest):`);
    console.log(`  p50 ${times.p50.toFixed(1)} ms, p95 ${times.p95.toFixed(1)} ms (goal p95 ≤ 150 ms)`);
    console.log(`  ${kib(compressed)} sent compressed (br), ${kib(plain)} uncompressed: ${((1 - compressed / plain) * 100).toFixed(0)} % less`);
    console.log(`\nClient JavaScript (public/build): ${kib(bundle.total)} in ${bundle.files} files, ${kib(bundle.largest.size)} the largest (${bundle.largest.name})`);
    console.log(`  zod in the client bundle: ${bundle.zod ? "yes — a client module imports it (contract/ values, not types)" : "no"}`);
    console.log("\nFigures depend on the machine and what else runs on it.");
  },
});

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Signs in through the sign-in form: the session cookie pages take. */
async function sessionCookie(url: string): Promise<string> {
  const response = await fetch(`${url}/login`, { method: "POST", body: new URLSearchParams(ADMIN), redirect: "manual" });
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`Signing in failed: ${response.status}`);
  return cookie;
}

/** The document's bytes as sent (no decompression) for an Accept-Encoding, and how long it took. */
function getDocument(page: string, cookie: string, encoding: string): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(page, { headers: { Cookie: cookie, "Accept-Encoding": encoding } }, (response) => {
        let bytes = 0;
        response.on("data", (chunk: Buffer) => (bytes += chunk.length));
        response.on("end", () =>
          response.statusCode === 200 ? resolve({ bytes, ms: performance.now() - started }) : reject(new Error(`${page}: ${response.statusCode}`)),
        );
      })
      .on("error", reject);
  });
}

async function documentBytes(page: string, cookie: string, encoding: string): Promise<number> {
  return (await getDocument(page, cookie, encoding)).bytes;
}

async function responseTimes(page: string, cookie: string) {
  for (let index = 0; index < 10; index++) await getDocument(page, cookie, "br, gzip");
  const times: number[] = [];
  for (let index = 0; index < REQUESTS; index++) times.push((await getDocument(page, cookie, "br, gzip")).ms);
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)], p95: times[Math.floor(times.length * 0.95)] };
}

async function clientBundle() {
  const dir = path.join(ROOT, "public/build");
  const files = (await fs.readdir(dir, { recursive: true })).filter((file) => file.endsWith(".js"));
  let total = 0;
  let zod = false;
  let largest = { name: "", size: 0 };
  for (const file of files) {
    const text = await fs.readFile(path.join(dir, file), "utf8");
    total += text.length;
    if (text.length > largest.size) largest = { name: file, size: text.length };
    if (/ZodError|\$ZodType/.test(text)) zod = true;
  }
  return { files: files.length, total, largest, zod };
}
