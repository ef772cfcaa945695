import { randomBytes } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { ArchiveDto, RenderDto } from "../contract";
import { formatDuration, formatWu } from "../domain/work-units";
import {
  type AgentProcess,
  type User,
  createWorker,
  ensureProject,
  getRender,
  listRenders,
  listWorkers,
  requestRender,
  signIn,
  startAgent,
  uploadBlend,
  waitForInspection,
} from "../bench/lib/farm";
import { ROOT, buildServer, startServerProcess, type ServerProcess } from "../bench/lib/server-process";
import { BLENDER, makeScene } from "../tests/helpers/scenes";

// `npm run demo`: a newcomer's first five minutes on one machine. The server on the
// embedded Postgres (data in ./data-demo), a demo user, a small animated scene made by
// Blender, a local agent, and a render of all its frames to watch in the PWA. Runs until
// Ctrl-C, which stops the agent first, then the server. A second run reuses it all.

const { values: flags } = parseArgs({ options: { "exit-when-done": { type: "boolean", default: false } } });
const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? "127.0.0.1";
const DATA_DIR = path.resolve(process.env.CACTUS_DATA_DIR ?? path.join(ROOT, "data-demo"));
const PUBLIC_URL = `http://localhost:${PORT}`;
const SCENE = { frames: 24, width: 160, height: 90, engine: "CYCLES", samples: 16, denoise: false } as const;
const POLL_MS = 1000;

/** What a second run needs again: the password (the user exists already) and the worker's token. */
interface DemoState {
  user: User;
  worker?: { id: number; token: string };
}

const say = (message: string) => console.log(message);
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

class DemoError extends Error {}
/** Ctrl-C during the start-up: what was started is stopped, nothing more is said. */
class Interrupted extends Error {}

async function readState(): Promise<DemoState> {
  const file = path.join(DATA_DIR, "demo.json");
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as DemoState;
  } catch {
    const state = { user: { username: "demo", password: randomBytes(9).toString("base64url") } };
    await writeState(state);
    return state;
  }
}

async function writeState(state: DemoState): Promise<void> {
  await fs.mkdir(DATA_DIR, { recursive: true });
  await fs.writeFile(path.join(DATA_DIR, "demo.json"), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Fails early and plainly when something else listens on the port. */
async function checkPortFree(): Promise<void> {
  if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) throw new DemoError(`PORT=${process.env.PORT} is not a port number.`);
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new DemoError(`Port ${PORT} is in use (another Cactus, or \`npm start\`?). Stop it, or run the demo on another port: PORT=3001 npm run demo`)
          : error,
      ),
    );
    probe.listen(PORT, HOST, () => probe.close(() => resolve()));
  });
}

async function checkBlender(): Promise<void> {
  const result = await execa(BLENDER, ["--version"], { reject: false });
  if (result.exitCode !== 0) {
    throw new DemoError(
      `Blender (${BLENDER}) does not run: ${result.shortMessage ?? result.stderr}\n` +
        "The demo makes its scene and renders it with Blender: install it (Debian: sudo apt-get install blender) or set CACTUS_BLENDER to its path.",
    );
  }
}

/** The worker of the last run when the server still knows it, else a new one. */
async function demoWorker(server: string, token: string, state: DemoState): Promise<{ id: number; token: string }> {
  const workers = await listWorkers(server, token);
  if (state.worker && workers.some((worker) => worker.id === state.worker!.id)) return state.worker;
  const names = new Set(workers.map((worker) => worker.name));
  let name = "demo-pc";
  for (let n = 2; names.has(name); n += 1) name = `demo-pc-${n}`;
  const created = await createWorker(server, token, name);
  state.worker = { id: created.id, token: created.token };
  await writeState(state);
  return state.worker;
}

interface Running {
  server?: ServerProcess;
  agent?: AgentProcess;
  logs: WriteStream[];
}

function logFile(running: Running, name: string): WriteStream {
  const log = createWriteStream(path.join(DATA_DIR, "logs", name), { flags: "a" });
  running.logs.push(log);
  return log;
}

async function run(running: Running, stopped: Promise<void>, isStopping: () => boolean): Promise<number> {
  const started = Date.now();
  // Between the steps of the start-up: a Ctrl-C ends it there (a child started by then is stopped by main).
  const checkpoint = () => {
    if (isStopping()) throw new Interrupted();
  };
  await checkPortFree();
  await checkBlender();
  await buildServer();
  checkpoint();
  const state = await readState();
  await fs.mkdir(path.join(DATA_DIR, "logs"), { recursive: true });

  say(`Making a ${SCENE.frames}-frame ${SCENE.width}×${SCENE.height} Cycles scene with Blender…`);
  const scene = await makeScene({ ...SCENE, path: path.join(DATA_DIR, "scene", "demo-cube.blend") });
  checkpoint();

  say(`Starting the server (embedded PostgreSQL, data in ${path.relative(process.cwd(), DATA_DIR) || "."})…`);
  const serverLog = logFile(running, "server.log");
  running.server = await startServerProcess({
    dataDir: DATA_DIR,
    admin: state.user,
    port: PORT,
    host: HOST,
    detached: true,
    onOutput: (chunk) => serverLog.write(chunk),
  });
  checkpoint();
  const server = running.server.url;
  const token = await signIn(server, state.user, "npm run demo").catch((error: Error) => {
    throw new DemoError(
      `Could not sign in as "${state.user.username}" (${error.message}).\n` +
        `${DATA_DIR} holds users but not the demo's (its password is kept in demo.json there): ` +
        "remove that dir to start afresh, or set CACTUS_DATA_DIR to a new one.",
    );
  });
  const project = await ensureProject(server, token, "Demo");
  let archive: ArchiveDto = await uploadBlend(server, token, project.id, scene);
  const worker = await demoWorker(server, token, state);

  say("Starting a cactus-agent on this machine…");
  const agentLog = logFile(running, "agent.log");
  running.agent = startAgent({
    server,
    token: worker.token,
    cacheDir: path.join(DATA_DIR, "agent-cache"),
    detached: true,
    onOutput: (chunk) => agentLog.write(chunk),
  });
  const agent = running.agent;
  let agentExit: number | null | undefined;
  void agent.exited.then((code) => (agentExit = code));
  const agentAlive = () => {
    checkpoint();
    if (agentExit !== undefined) throw new DemoError(`The agent stopped (exit ${agentExit}):\n${agent.output().slice(-2000)}`);
  };

  if (archive.facts.frameStart === null) {
    say("Waiting for the agent to read the scene (frame range, resolution)…");
    archive = await waitForInspection(server, token, archive.id, { stillHope: agentAlive });
  }
  checkpoint();
  // A render a Ctrl-C left unfinished is carried on, rather than queued behind.
  const unfinished = (await listRenders(server, token)).find(
    (render) => render.projectId === project.id && ["estimating", "queued", "rendering"].includes(render.status),
  );
  let render: RenderDto = unfinished ?? (await requestRender(server, token, { archiveId: archive.id }));
  say(
    `\nRender ${render.id} ${unfinished ? "of the last run carries on" : "requested"}: ` +
      `frames ${render.frameStart}-${render.frameEnd} of ${render.archiveFilename}.\n\n` +
      `  Watch it:  ${PUBLIC_URL}/renders/${render.id}\n` +
      `  Sign in:   ${state.user.username} / ${state.user.password}\n\n` +
      `Logs in ${path.relative(process.cwd(), path.join(DATA_DIR, "logs"))}/. Ctrl-C stops the agent, then the server.\n`,
  );

  let last = "";
  for (;;) {
    agentAlive();
    render = await getRender(server, token, render.id);
    const { done, total, rendering, failed } = render.frames;
    // While it samples, the sample frames are its only frames out; then its quote, made again with each frame.
    const estimate = render.estimate
      ? ` · ${render.status === "estimating" ? "quote so far" : "estimate"} ${formatWu(render.estimate.totalWu)} WU` +
        (render.estimate.etaSeconds ? `, about ${formatDuration(render.estimate.etaSeconds)} left` : "")
      : "";
    const line =
      `  ${done}/${total} frames done` + (rendering ? `, ${rendering} rendering` : "") + (failed ? `, ${failed} failed` : "") + estimate;
    if (line !== last) say(`${line}  (${elapsed(started)})`);
    last = line;
    if (["done", "failed", "cancelled"].includes(render.status)) break;
    const ended = await Promise.race([stopped.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), POLL_MS))]);
    if (ended) return 0;
  }
  if (render.status === "done") say(`\nRender ${render.id} is done: ${render.frames.done} frames. See them at ${PUBLIC_URL}/renders/${render.id}`);
  else say(`\nRender ${render.id} ended ${render.status}${render.failure ? `: ${render.failure}` : ""}.`);
  if (flags["exit-when-done"]) return render.status === "done" ? 0 : 1;
  say("The farm keeps running for you to look around; Ctrl-C stops it.");
  await stopped;
  return 0;
}

/** The agent first (it finishes or releases its frame while the server still answers), then the server. */
async function stopAll(running: Running): Promise<void> {
  if (running.agent) {
    say("Stopping the agent…");
    await running.agent.stop();
  }
  if (running.server) {
    say("Stopping the server…");
    await running.server.stop();
  }
  // Their last lines, e.g. the server's "stopping", are in the logs too.
  await Promise.all(running.logs.map((log) => new Promise((resolve) => log.end(resolve))));
}

async function main(): Promise<void> {
  const running: Running = { logs: [] };
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) {
      say("Stopping at once.");
      for (const child of [running.agent, running.server]) if (child) process.kill(-child.pid, "SIGKILL");
      process.exit(130);
    }
    interrupted = true;
    stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await run(running, stopped, () => interrupted);
  } catch (error) {
    if (error instanceof Interrupted || interrupted) code = 0;
    else {
      console.error(`\n${error instanceof DemoError ? error.message : error instanceof Error ? (error.stack ?? error.message) : error}`);
      if (running.server && !(error instanceof DemoError)) console.error(`\nThe server's last lines:\n${running.server.output().slice(-2000)}`);
    }
  } finally {
    await stopAll(running);
  }
  if (interrupted) say("Stopped.");
  process.exit(code);
}

void main();
