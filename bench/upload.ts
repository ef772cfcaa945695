import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { callApi, streamUpload, uploadUrl } from "./lib/api";
import { sync, timeCommand, writeBenchFile } from "./lib/file";
import { PeakMemory, cpuSeconds, procStatusBytes } from "./lib/proc";
import { runBench } from "./lib/run";
import { startTestS3, type TestS3 } from "../tests/helpers/s3";
import { ROOT, buildServer, startBareServerProcess, startServerProcess, type ServerProcess } from "./lib/server-process";

// `npm run bench:upload`: a 1 GiB archive streamed to a real server (a child process),
// against `cp` of the same file on the same disk, and the server's peak memory meanwhile.
// Goals: upload ≥ 80 % of cp's throughput, server peak RSS ≤ 150 MB. The same upload to a
// bare node:http server (bench/lib/bare-server.ts) shows what Node itself allows here.
// `-- --s3`: the server keeps blobs in an S3 store (s3rver on this machine), so each
// upload is also sent on to the store in parts; the memory goal is the same.

const MB = 1e6;
const GOAL_RATIO = 0.8;
const GOAL_PEAK_RSS_MB = 150;

const { values: flags } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "1024" },
    runs: { type: "string", default: "3" },
    s3: { type: "boolean", default: false },
  },
});
const S3 = flags.s3;
const SIZE = Number(flags["size-mib"]) * 1024 * 1024;
const RUNS = Number(flags.runs);
if (!(SIZE > 0) || !(RUNS >= 1)) throw new Error("usage: npm run bench:upload -- [--size-mib 1024] [--runs 3] [--s3]");

const ADMIN = { username: "bench", password: randomBytes(12).toString("hex") };

interface Upload {
  seconds: number;
  /** The server's RSS just before the upload, and its peak during it. */
  idleRss: number;
  peakRss: number;
  rssSource: string;
  /** CPU the server spent on the upload: a figure the machine's other load moves less than wall time. */
  cpuSeconds: number;
}

interface Run {
  cactus: Upload;
  bare: Upload;
  cpSeconds: number;
}

interface Bench {
  file: string;
  sha256: string;
  runDir: string;
}

/** One timed upload of the bench file; `sync` first, so each starts with no dirty pages. */
async function timedUpload(bench: Bench, server: ServerProcess, url: URL, token?: string): Promise<Upload> {
  await sync();
  const idleRss = await procStatusBytes(server.pid, "VmRSS");
  const memory = new PeakMemory(server.pid);
  await memory.start();
  const cpuBefore = await cpuSeconds(server.pid);
  const started = process.hrtime.bigint();
  const answer = await streamUpload({ url, token, file: bench.file, size: SIZE, sha256: bench.sha256 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = (await cpuSeconds(server.pid)) - cpuBefore;
  const rss = await memory.stop();
  if (answer.body.size !== SIZE || answer.body.hash !== bench.sha256 || answer.body.deduplicated) {
    throw new Error(`unexpected upload answer ${answer.status} from ${url}: ${JSON.stringify(answer.body)}`);
  }
  return { seconds, idleRss, peakRss: rss.peak, rssSource: rss.source, cpuSeconds: cpu };
}

async function timedCopy(bench: Bench): Promise<number> {
  const copy = path.join(bench.runDir, "archive-cp.blend");
  await sync();
  const seconds = await timeCommand("cp", [bench.file, copy]);
  await fs.rm(copy);
  return seconds;
}

async function run(runDir: string, track: (server: ServerProcess) => void, trackStore: (store: TestS3) => void): Promise<void> {
  const file = path.join(runDir, "archive.blend");
  console.error(`Writing a ${SIZE / 1024 / 1024} MiB file in ${path.relative(ROOT, runDir)}…`);
  const bench: Bench = { file, sha256: await writeBenchFile(file, SIZE), runDir };

  let store: TestS3 | undefined;
  if (S3) {
    console.error("Starting s3rver, the S3 store the server will keep its blobs in…");
    store = await startTestS3("bench");
    trackStore(store);
  }
  console.error("Starting the server (node build/server.js as npm start runs it, embedded Postgres) and the bare one…");
  const server = await startServerProcess({
    dataDir: path.join(runDir, "data"),
    admin: ADMIN,
    env: store?.env,
    nodeArgs: process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean),
  });
  track(server);
  const bare = await startBareServerProcess(path.join(runDir, "bare"));
  track(bare);
  const { token } = await callApi<{ token: string }>(server.url, "POST", "/auth/login", undefined, { ...ADMIN, tokenName: "bench" });

  const runs: Run[] = [];
  for (let index = 1; index <= RUNS; index += 1) {
    // A new project each run, so every run takes the whole body path, not a dedupe.
    const project = await callApi<{ id: number }>(server.url, "POST", "/projects", token, { name: `bench ${index}` });
    const cactus = await timedUpload(bench, server, uploadUrl(server.url, project.id, "archive.blend"), token);
    const cpSeconds = await timedCopy(bench);
    const bareUpload = await timedUpload(bench, bare, new URL(bare.url));
    runs.push({ cactus, bare: bareUpload, cpSeconds });
    console.error(`run ${index}/${RUNS} done`);
  }

  // "Do you have it?" in yet another project: the server has the bytes, so none are sent.
  const project = await callApi<{ id: number }>(server.url, "POST", "/projects", token, { name: "bench dedupe" });
  const started = process.hrtime.bigint();
  const deduped = await callApi<{ deduplicated: boolean; size: number }>(
    server.url,
    "POST",
    `/projects/${project.id}/archives/dedupe`,
    token,
    { sha256: bench.sha256, filename: "archive.blend" },
  );
  const dedupeMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (!deduped.deduplicated || deduped.size !== SIZE) throw new Error(`unexpected dedupe answer ${JSON.stringify(deduped)}`);

  report(runs, dedupeMs);
}

const mbps = (seconds: number) => (SIZE / MB / seconds).toFixed(0);
const mb = (bytes: number) => (bytes / MB).toFixed(0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

function report(runs: Run[], dedupeMs: number): void {
  const upload = median(runs.map((run) => run.cactus.seconds));
  const cp = median(runs.map((run) => run.cpSeconds));
  const bare = median(runs.map((run) => run.bare.seconds));
  const ratio = cp / upload;
  const peak = Math.max(...runs.map((run) => run.cactus.peakRss));
  const gib = SIZE / 1024 ** 3;
  const rows = [
    [`upload to Cactus (HTTP, streamed${S3 ? ", then sent on to S3" : ""})`, `${mbps(upload)} MB/s`, ""],
    ["cp, same file, same disk", `${mbps(cp)} MB/s`, ""],
    // With S3 the bytes are written twice on this disk (the upload's file, then s3rver's copy): no goal.
    ["upload / cp", `${(ratio * 100).toFixed(0)} %`, S3 ? "(S3: the file store's goal does not apply)" : `goal ≥ ${GOAL_RATIO * 100} %   ${verdict(ratio >= GOAL_RATIO)}`],
    [`server peak RSS (${runs[0].cactus.rssSource})`, `${mb(peak)} MB`, `goal ≤ ${GOAL_PEAK_RSS_MB} MB  ${verdict(peak / MB <= GOAL_PEAK_RSS_MB)}`],
    ["server RSS before the upload", `${mb(median(runs.map((run) => run.cactus.idleRss)))} MB`, ""],
    ["server CPU per GiB uploaded", `${(median(runs.map((run) => run.cactus.cpuSeconds)) / gib).toFixed(2)} s`, ""],
    ["dedupe (same sha256, no body)", `${dedupeMs.toFixed(0)} ms`, ""],
    ["ceiling: bare node:http + sha256 + file", `${mbps(bare)} MB/s`, `upload / ceiling ${((bare / upload) * 100).toFixed(0)} %`],
    ["  its CPU per GiB", `${(median(runs.map((run) => run.bare.cpuSeconds)) / gib).toFixed(2)} s`, ""],
    ["  its RSS before → peak", `${mb(median(runs.map((run) => run.bare.idleRss)))} → ${mb(Math.max(...runs.map((run) => run.bare.peakRss)))} MB`, ""],
  ];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column].length)));
  console.log(
    `\nUpload of ${SIZE / 1024 / 1024} MiB, ${runs.length} run(s), blobs ${S3 ? "in S3 (s3rver on this machine)" : "in the data dir"}: medians, and the peak of all. ` +
      "`sync` before each timed step, none inside one: both write to the page cache. 1 MB = 10^6 bytes.\n",
  );
  for (const row of rows) console.log(`  ${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2]}`.trimEnd());
  console.log("");
  for (const [index, run] of runs.entries()) {
    console.log(
      `  run ${index + 1}: upload ${mbps(run.cactus.seconds)} MB/s, cp ${mbps(run.cpSeconds)} MB/s, ` +
        `bare ${mbps(run.bare.seconds)} MB/s; server RSS ${mb(run.cactus.idleRss)} → ${mb(run.cactus.peakRss)} MB, ` +
        `CPU ${run.cactus.cpuSeconds.toFixed(2)} s`,
    );
  }
}

const servers: ServerProcess[] = [];
const stores: TestS3[] = [];
runBench({
  name: "upload",
  stops: "the servers",
  run: async (runDir) => {
    await buildServer();
    await run(
      runDir,
      (server) => servers.push(server),
      (store) => stores.push(store),
    );
  },
  stop: async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(stores.map((store) => store.close()));
  },
});
