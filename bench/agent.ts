import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { makeScene } from "../tests/helpers/scenes";
import { type AgentTimes, agentTimes, median, percentile, readTimings } from "./lib/agent-timings";
import {
  type AgentProcess,
  createWorker,
  ensureProject,
  getRender,
  requestRender,
  signIn,
  startAgent,
  uploadBlend,
  waitForInspection,
} from "./lib/farm";
import { runBench } from "./lib/run";
import { buildServer, startServerProcess, type ServerProcess } from "./lib/server-process";

// `npm run bench:agent`: the real server and two `cactus-agent` processes with real Blender
// render the queued frames of a tiny scene. From each agent's timings log
// (CACTUS_AGENT_TIMINGS): the gap between one frame's upload and the next Blender start,
// and the share of the agent's time spent outside Blender — next to what a fixed 2 s poll
// after each task would cost on the same frames. Then one agent sits idle (its claim held
// by the server, decision 026) and single frames are requested now and then: request →
// its Blender start.

const GOAL_GAP_MS = 30;
const GOAL_OUTSIDE = 0.03;
const GOAL_IDLE_START_MS = 500;
const FIXED_POLL_MS = 2000;

const { values: flags } = parseArgs({
  options: {
    frames: { type: "string", default: "24" },
    agents: { type: "string", default: "2" },
    threads: { type: "string", default: "1" },
    samples: { type: "string", default: "4" },
    "idle-starts": { type: "string", default: "9" },
  },
});
const FRAMES = Number(flags.frames);
const AGENTS = Number(flags.agents);
const THREADS = Number(flags.threads);
const SAMPLES = Number(flags.samples);
const IDLE_STARTS = Number(flags["idle-starts"]);
if (![FRAMES, AGENTS, THREADS, SAMPLES, IDLE_STARTS].every((value) => Number.isInteger(value) && value >= 1)) {
  throw new Error("usage: npm run bench:agent -- [--frames 24] [--agents 2] [--threads 1] [--samples 4] [--idle-starts 9]");
}
const SCENE = { frames: FRAMES, width: 64, height: 48, engine: "CYCLES", samples: SAMPLES, denoise: false } as const;
const ADMIN = { username: "bench", password: randomBytes(12).toString("hex") };

interface Running {
  server?: ServerProcess;
  agents: AgentProcess[];
}

async function run(runDir: string, running: Running): Promise<void> {
  console.error(`Making the scene (${FRAMES} frames, ${SCENE.width}×${SCENE.height}, Cycles, ${SAMPLES} samples) with Blender…`);
  const scene = await makeScene({ ...SCENE, path: path.join(runDir, "tiny.blend") });
  console.error("Starting the server (embedded Postgres)…");
  running.server = await startServerProcess({ dataDir: path.join(runDir, "data"), admin: ADMIN, detached: true });
  const server = running.server.url;
  const token = await signIn(server, ADMIN, "bench");
  const project = await ensureProject(server, token, "bench");
  const archive = await uploadBlend(server, token, project.id, scene);
  const workers = await Promise.all(Array.from({ length: AGENTS }, (_, index) => createWorker(server, token, `bench-${index + 1}`)));
  const agentDir = (index: number) => path.join(runDir, `agent-${index + 1}`);

  // The scene is read first, by one agent on its own, so the timed run starts with frames queued.
  console.error("Inspecting the scene…");
  const inspector = startAgent({ server, token: workers[0].token, cacheDir: path.join(agentDir(0), "cache"), once: true, detached: true });
  running.agents.push(inspector);
  const inspectorExit = await inspector.exited;
  if (inspectorExit !== 0) throw new Error(`The inspecting agent exited ${inspectorExit}:\n${inspector.output()}`);
  await waitForInspection(server, token, archive.id, { timeoutMs: 10_000 });

  const render = await requestRender(server, token, { archiveId: archive.id, frames: `1-${FRAMES}` });
  console.error(`Rendering ${FRAMES} queued frames on ${AGENTS} agents (${THREADS} Blender thread${THREADS > 1 ? "s" : ""} each)…`);
  const timingFiles = workers.map((_, index) => path.join(agentDir(index), "timings.jsonl"));
  running.agents = workers.map((worker, index) =>
    startAgent({
      server,
      token: worker.token,
      cacheDir: path.join(agentDir(index), "cache"),
      once: true,
      threads: THREADS,
      env: { CACTUS_AGENT_TIMINGS: timingFiles[index] },
      detached: true,
    }),
  );
  const exits = await Promise.all(running.agents.map((agent) => agent.exited));
  exits.forEach((code, index) => {
    if (code !== 0) throw new Error(`Agent ${index + 1} exited ${code}:\n${running.agents[index].output()}`);
  });
  const finished = await getRender(server, token, render.id);
  if (finished.status !== "done" || finished.frames.done !== FRAMES) {
    throw new Error(`The render did not end done with ${FRAMES} frames: ${JSON.stringify(finished)}`);
  }
  const agents = await Promise.all(timingFiles.map(async (file) => agentTimes(await readTimings(file))));
  const timed = agents.reduce((count, agent) => count + agent.tasks.length, 0);
  if (timed !== FRAMES) throw new Error(`The timings logs hold ${timed} render tasks, not ${FRAMES}.`);

  console.error(`An idle agent: ${IDLE_STARTS} single frames requested now and then…`);
  const idleTimings = path.join(runDir, "idle-agent.jsonl");
  const idleAgent = startAgent({
    server,
    token: workers[0].token,
    cacheDir: path.join(agentDir(0), "cache"),
    threads: THREADS,
    env: { CACTUS_AGENT_TIMINGS: idleTimings },
    detached: true,
  });
  running.agents.push(idleAgent);
  for (const deadline = Date.now() + 60_000; !idleAgent.output().includes("asks for work"); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`The idle agent did not say hello within 60 s:\n${idleAgent.output()}`);
  }
  const idleStarts: number[] = [];
  for (let index = 0; index < IDLE_STARTS; index++) {
    // Long enough for the agent to be idle, its claim held by the server; varied, so no rhythm helps.
    await sleep(1500 + Math.random() * 1500);
    const requestedAt = performance.timeOrigin + performance.now();
    const single = await requestRender(server, token, { archiveId: archive.id, frames: String(1 + (index % FRAMES)) });
    idleStarts.push((await nextBlenderStart(idleTimings, requestedAt, idleAgent)) - requestedAt);
    await waitForRender(server, token, single.id, idleAgent);
  }
  await idleAgent.stop();
  report(agents, idleStarts);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When the agent next started Blender after `after` (its timings log; the same machine's clock). */
async function nextBlenderStart(file: string, after: number, agent: AgentProcess): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const start = (await readTimings(file)).find((line) => line.event === "blender-start" && line.at > after);
    if (start) return start.at;
    if (Date.now() > deadline) throw new Error(`The idle agent did not start Blender within 60 s of a request:\n${agent.output()}`);
    await sleep(5);
  }
}

async function waitForRender(server: string, token: string, renderId: number, agent: AgentProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await getRender(server, token, renderId)).status !== "done") {
    if (Date.now() > deadline) throw new Error(`Render ${renderId} was not done within 120 s:\n${agent.output()}`);
    await sleep(50);
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

function report(agents: AgentTimes[], idleStarts: number[]): void {
  const gaps = agents.flatMap((agent) => agent.gaps);
  const tasks = agents.flatMap((agent) => agent.tasks);
  const of = (pick: (gap: (typeof gaps)[number]) => number) => gaps.map(pick);
  const afterUpload = median(of((gap) => gap.afterUploadMs));
  const idle = median(of((gap) => gap.idleMs));
  const wall = agents.reduce((total, agent) => total + agent.wallMs, 0);
  const blender = agents.reduce((total, agent) => total + agent.blenderMs, 0);
  const outside = 1 - blender / wall;
  const taskMs = median(tasks.map((task) => task.completed - task.claimed));
  const poll = FIXED_POLL_MS / (FIXED_POLL_MS + taskMs);
  const rows = [
    ["median gap: upload done → next Blender start", ms(afterUpload), `goal ≤ ${GOAL_GAP_MS} ms  ${verdict(afterUpload <= GOAL_GAP_MS)}`],
    ["median Blender idle: exit → next Blender start", ms(idle), `goal ≤ ${GOAL_GAP_MS} ms  ${verdict(idle <= GOAL_GAP_MS)}`],
    ["  p90, max", `${ms(percentile(of((gap) => gap.idleMs), 0.9))}, ${ms(Math.max(...of((gap) => gap.idleMs)))}`, ""],
    ["  of which the next claim (median)", ms(median(of((gap) => gap.claimMs))), ""],
    ["  of which archive + output dir (median)", ms(median(of((gap) => gap.prepareMs))), ""],
    ["share of agent wall time outside Blender", pct(outside), `goal ≤ ${GOAL_OUTSIDE * 100} %   ${verdict(outside <= GOAL_OUTSIDE)}`],
    ["  upload of a frame (median, Blender exit → done)", ms(median(tasks.map((task) => task.uploaded - task.blenderExit))), "while the next renders"],
    ["  Blender run (median, its start-up included)", ms(median(tasks.map((task) => task.blenderExit - task.blenderStart))), ""],
    ["  task (median, claimed → completed)", ms(taskMs), ""],
    [`a fixed ${FIXED_POLL_MS / 1000} s poll after each task would idle`, pct(poll), `${FIXED_POLL_MS / 1000} s / (${FIXED_POLL_MS / 1000} s + ${(taskMs / 1000).toFixed(2)} s)`],
  ];
  const load = os.loadavg().map((value) => value.toFixed(1)).join(" ");
  console.log(
    `\nAgent loop: ${FRAMES} frames of a ${SCENE.width}×${SCENE.height} Cycles scene (${SAMPLES} samples, 1 frame a task), ` +
      `${AGENTS} agents, ${THREADS} Blender thread(s) each, real Blender; ${os.cpus().length} cores, load ${load}. ` +
      "Wall time per agent: its first claim to its last complete. A negative gap: the next Blender started before the upload ended.\n",
  );
  printRows(rows);
  console.log("");
  for (const [index, agent] of agents.entries()) {
    console.log(
      `  agent ${index + 1}: ${agent.tasks.length} frames, wall ${(agent.wallMs / 1000).toFixed(2)} s, ` +
        `Blender ${(agent.blenderMs / 1000).toFixed(2)} s, outside ${pct(1 - agent.blenderMs / agent.wallMs)}, ` +
        `median Blender idle ${ms(median(agent.gaps.map((gap) => gap.idleMs)))}`,
    );
  }
  const idleStart = median(idleStarts);
  console.log(`\nAn idle agent (its claim held by the server until work appears): ${idleStarts.length} single-frame renders requested 1.5–3 s apart.\n`);
  printRows([
    ["request → first Blender start, p50", ms(idleStart), `goal ≤ ${GOAL_IDLE_START_MS} ms  ${verdict(idleStart <= GOAL_IDLE_START_MS)}`],
    ["  p90, max", `${ms(percentile(idleStarts, 0.9))}, ${ms(Math.max(...idleStarts))}`, ""],
    [`a fixed ${FIXED_POLL_MS / 1000} s poll would be about`, ms(idleStart + FIXED_POLL_MS / 2), `p50 + half its ${FIXED_POLL_MS / 1000} s interval, on average`],
  ]);
}

/** Label, figure (right-aligned), goal or note: one table's columns lined up. */
function printRows(rows: string[][]): void {
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) console.log(`  ${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2]}`.trimEnd());
}

const running: Running = { agents: [] };
runBench({
  name: "agent",
  stops: "the agents and the server",
  run: async (runDir) => {
    await buildServer();
    await run(runDir, running);
  },
  // The agents first (they release their tasks while the server answers), then the server.
  stop: async () => {
    await Promise.all(running.agents.map((agent) => agent.stop()));
    await running.server?.stop();
  },
});
