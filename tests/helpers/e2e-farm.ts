import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { QueryTypes } from "sequelize";
import {
  archiveSchema,
  createdWorkerSchema,
  projectSchema,
  renderSchema,
  uploadedArchiveSchema,
  type ArchiveDto,
  type CreatedWorkerDto,
  type RenderDto,
  type RenderRequest,
} from "../../contract";
import { startTestServer, type ServerPlace, type TestServer } from "./server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "./users";

// A whole farm on this machine for the end-to-end tests (and the demo and agent bench):
// the real server in this process, a user with an API token, and real `cactus-agent`
// processes with real Blender, each in a temp dir of its own. Plain errors, no vitest
// calls: scripts outside the test runner may drive it too (give `place` then).

const ROOT = path.resolve(import.meta.dirname, "../..");
const AGENT_BIN = path.join(ROOT, "agent/bin/cactus-agent.js");
const POLL_MS = 100;

/** What the farm needs of its server: the in-process test server, or a replica's process. */
export type FarmServer = Pick<TestServer, "url" | "port" | "databaseUrl" | "close">;

/**
 * What a beforeAll that starts agents may take: each agent renders a test frame with every
 * engine before its hello (Eevee compiles its shaders on the CPU: ~10 s alone, several
 * times that when the machine is shared), and agents started together share the cores.
 */
export const AGENTS_START_MS = 180_000;

export interface FarmOptions {
  /** Server settings, e.g. CACTUS_LEASE_SECONDS. */
  env?: Record<string, string>;
  /** Starts the farm's server in its place; by default the test server in this process. */
  server?: (place: ServerPlace) => Promise<FarmServer>;
  /** The database and data dir; by default a fresh test database and a dir under the farm's. */
  place?: Partial<ServerPlace>;
  username?: string;
}

export interface AgentOptions {
  /** The worker's name (unique in the farm); agent-1, agent-2… by default. */
  name?: string;
  /** Extra environment of the agent process. */
  env?: Record<string, string>;
  /** The server it talks to; the farm's by default (another replica's, say). */
  server?: string;
  /** Wait until the agent said hello (default); false returns as soon as it is spawned. */
  waitForHello?: boolean;
  /**
   * Start with this machine's benchmark already measured (default), as an agent restarted
   * on the same machine does; false: the agent measures it at its first start.
   */
  measured?: boolean;
  /** Whose worker it is: the API token of another user of the farm (default the farm's user). */
  token?: string;
}

export interface FarmAgent {
  name: string;
  workerId: number;
  token: string;
  /** Its own dir: cache/, tmp/ (Blender's output), home/. Every Blender it runs has it in argv. */
  dir: string;
  cacheDir: string;
  process: ChildProcess;
  pid: number;
  /** What it printed (stdout and stderr), a line each, with seconds since the farm started. */
  log: string[];
  /** Resolves with its exit code (or signal) once it ended. */
  exited: Promise<number | NodeJS.Signals | null>;
  alive(): boolean;
}

export interface FarmProcess {
  pid: number;
  argv: string[];
}

export class Farm {
  readonly agents: FarmAgent[] = [];
  private project: Promise<number> | undefined;
  private readonly started = Date.now();

  private constructor(
    public server: FarmServer,
    readonly token: string,
    readonly userId: number,
    /** The farm's temp dir: agents, downloads, the server's data (unless placed elsewhere). */
    readonly root: string,
    private readonly place: ServerPlace,
    private readonly env: Record<string, string>,
  ) {}

  static async start({ env = {}, place = {}, username = "farmer", server: startServer }: FarmOptions = {}): Promise<Farm> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-e2e-"));
    const fullPlace: ServerPlace = {
      // ./db needs the vitest runner; a script gives its own database.
      databaseUrl: place.databaseUrl ?? (await (await import("./db")).createTestDatabase()),
      dataDir: place.dataDir ?? path.join(root, "server"),
    };
    const server = await (startServer ?? ((at) => startTestServer(env, at)))(fullPlace);
    const { user, token } = await createUserWithToken(server, username);
    const farm = new Farm(server, token, user.id, root, fullPlace, env);
    process.once("exit", farm.killEverythingNow);
    return farm;
  }

  get url(): string {
    return this.server.url;
  }

  /** A call to the user API (/api/v1…) with the farm user's token. */
  call(urlPath: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Response> {
    return fetch(`${this.url}/api/v1${urlPath}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        Authorization: `Bearer ${init.token ?? this.token}`,
        ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  /** A user API call that must answer `status`; its JSON. */
  async json<T = unknown>(urlPath: string, init: { method?: string; body?: unknown; token?: string } = {}, status = 200): Promise<T> {
    const response = await this.call(urlPath, init);
    const text = await response.text();
    if (response.status !== status) {
      throw new Error(`${init.method ?? (init.body === undefined ? "GET" : "POST")} ${urlPath}: ${response.status}, not ${status}: ${text}`);
    }
    return JSON.parse(text) as T;
  }

  /** Rows of a query on the server's database. */
  query<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return testDatabase(this.server).query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  /** A worker made through the API, its agent not started (see addAgent's `worker`): it may take tasks, once it runs. */
  async createWorker(name: string, token?: string): Promise<CreatedWorkerDto> {
    return createdWorkerSchema.parse(await this.json("/workers", { body: { name }, token }, 201));
  }

  /** A worker made through the API (or `worker`, made earlier) and its `cactus-agent run` process, one Blender thread. */
  async addAgent({
    name = `agent-${this.agents.length + 1}`,
    env = {},
    waitForHello = true,
    server = this.url,
    measured = true,
    worker: made,
    token,
  }: AgentOptions & { worker?: CreatedWorkerDto } = {}): Promise<FarmAgent> {
    const worker = made ?? (await this.createWorker(name, token));
    name = worker.name;
    const dir = path.join(this.root, "agents", name);
    const cacheDir = path.join(dir, "cache");
    await Promise.all(["cache", "tmp", "home"].map((sub) => fs.mkdir(path.join(dir, sub), { recursive: true })));
    if (measured) await fs.copyFile(await machineBenchmark(env.CACTUS_THREADS ?? "1"), path.join(cacheDir, "benchmark.json"));
    const child = spawn(process.execPath, [AGENT_BIN, "run"], {
      cwd: ROOT,
      // Its own process group: the farm can stop the agent and its Blender together.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // Remix's globals declare NODE_ENV as always set; the agent does not read it.
      env: Object.assign({} as NodeJS.ProcessEnv, {
        PATH: process.env.PATH ?? "",
        HOME: path.join(dir, "home"),
        TMPDIR: path.join(dir, "tmp"),
        NO_COLOR: "1",
        CACTUS_SERVER: server,
        CACTUS_WORKER_TOKEN: worker.token,
        CACTUS_AGENT_CACHE: cacheDir,
        CACTUS_AGENT_CONFIG: path.join(dir, "agent.json"),
        CACTUS_THREADS: "1",
        // This machine runs other tests beside: they are not an owner at work.
        CACTUS_BUSY_CPU: "off",
        ...(process.env.CACTUS_BLENDER ? { CACTUS_BLENDER: process.env.CACTUS_BLENDER } : {}),
        ...env,
      }),
    });
    const log: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = "";
      stream.setEncoding("utf8").on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!;
        for (const line of lines) log.push(`[${this.elapsed()}] ${line}`);
      });
    }
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
      child.once("exit", (code, signal) => {
        log.push(`[${this.elapsed()}] (exited: ${signal ?? code})`);
        resolve(signal ?? code);
      }),
    );
    let ended = false;
    void exited.then(() => (ended = true));
    const agent: FarmAgent = {
      name,
      workerId: worker.id,
      token: worker.token,
      dir,
      cacheDir,
      process: child,
      pid: child.pid!,
      log,
      exited,
      alive: () => !ended,
    };
    this.agents.push(agent);
    // Before its hello an agent renders a test frame with each engine (Eevee's shaders: seconds).
    if (waitForHello) await this.waitForLog(agent, /Hello: worker/, 150_000);
    return agent;
  }

  /** Waits for a line of the agent's log; the log is in the error when it does not come. */
  async waitForLog(agent: FarmAgent, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    let line: string | undefined;
    await this.waitFor(
      `${agent.name} logs ${pattern}`,
      () => {
        line = agent.log.find((entry) => pattern.test(entry));
        if (line === undefined && !agent.alive()) throw new Error(`${agent.name} exited before it logged ${pattern}:\n${this.logs()}`);
        return line !== undefined;
      },
      timeoutMs,
    );
    return line!;
  }

  /** kill -9 of the agent alone, as a crash would; its Blender may live on (see killLeftovers). */
  async killAgent(agent: FarmAgent): Promise<void> {
    if (agent.alive()) process.kill(agent.pid, "SIGKILL");
    await agent.exited;
  }

  /** SIGTERM, as systemd stops it: it finishes or releases its task, then exits. */
  async stopAgent(agent: FarmAgent, timeoutMs = 40_000): Promise<number | NodeJS.Signals | null> {
    if (agent.alive()) process.kill(agent.pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(agent.pid, "SIGKILL"), timeoutMs);
    try {
      return await agent.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills whatever still runs in the agent's process group or dir (a killed agent's Blender). */
  async killLeftovers(agent: FarmAgent): Promise<void> {
    signalGroup(agent.pid, "SIGKILL");
    for (const { pid } of processesUnder(agent.dir)) signal(pid, "SIGKILL");
    await this.waitFor(`${agent.name}'s processes are gone`, () => processesUnder(agent.dir).length === 0, 5000);
  }

  /** The Blender processes rendering for this agent now (its dir is in their argv). */
  blenderOf(agent: FarmAgent): FarmProcess[] {
    return processesUnder(agent.dir).filter(({ argv }) => path.basename(argv[0]).startsWith("blender"));
  }

  /** Puts a .blend in the farm user's project (made on first use); the archive as uploaded. */
  async uploadScene(file: string, filename = path.basename(file)): Promise<ArchiveDto> {
    // One project for all, made once even when uploads run side by side.
    this.project ??= this.json("/projects", { body: { name: "E2E" } }, 201).then((body) => projectSchema.parse(body).id);
    const response = await fetch(`${this.url}/api/v1/projects/${await this.project}/archives?${new URLSearchParams({ filename })}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/octet-stream" },
      body: new Uint8Array(await fs.readFile(file)),
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`Uploading ${file}: ${response.status}: ${text}`);
    return uploadedArchiveSchema.parse(JSON.parse(text));
  }

  /**
   * The archive once an agent read its scene (its facts have the frame range). An idle
   * agent asks for work every 30 s at the slowest, then Blender reads the scene.
   */
  async waitForFacts(archiveId: number, timeoutMs = 90_000): Promise<ArchiveDto> {
    let archive: ArchiveDto | undefined;
    await this.waitFor(
      `archive ${archiveId}'s scene facts`,
      async () => {
        archive = archiveSchema.parse(await this.json(`/archives/${archiveId}`));
        return archive.facts.frameEnd !== null;
      },
      timeoutMs,
    );
    return archive!;
  }

  async requestRender(request: Partial<RenderRequest>): Promise<RenderDto> {
    return renderSchema.parse(await this.json("/renders", { body: request }, 201));
  }

  async render(id: number): Promise<RenderDto> {
    return renderSchema.parse(await this.json(`/renders/${id}`));
  }

  /** Polls the render until `done(render)`; the last answer and the agents' logs are in the error. */
  async waitForRender(id: number, done: (render: RenderDto) => boolean, timeoutMs = 60_000): Promise<RenderDto> {
    let render: RenderDto | undefined;
    await this.waitFor(
      `render ${id} reaches the state wanted`,
      async () => done((render = await this.render(id))),
      timeoutMs,
      () => `last seen: ${JSON.stringify(render)}`,
    );
    return render!;
  }

  /**
   * Stops the server and starts it again on the same port, database and data dir, after
   * `downMs` without one — agents meanwhile get refused connections.
   */
  async restartServer(downMs = 0): Promise<void> {
    const port = this.server.port;
    await this.server.close();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    this.server = await startTestServer({ ...this.env, PORT: String(port) }, this.place);
  }

  /** Every agent's log, for a failure message. */
  logs(): string {
    return this.agents.map((agent) => `--- ${agent.name} (worker ${agent.workerId}) ---\n${agent.log.join("\n")}`).join("\n");
  }

  /**
   * Kills every agent and its Blender, stops the server, removes the temp dirs. Safe to
   * call twice. CACTUS_E2E_LOGS=1 prints the agents' logs first.
   */
  async stop(): Promise<void> {
    if (process.env.CACTUS_E2E_LOGS) process.stderr.write(`${this.logs()}\n`);
    this.killEverythingNow();
    await Promise.all(this.agents.map((agent) => agent.exited));
    await this.waitFor("no process of the farm is left", () => processesUnder(this.root).length === 0, 5000).catch(() => undefined);
    process.off("exit", this.killEverythingNow);
    await this.server.close().catch(() => undefined);
    await closeTestDatabase();
    await fs.rm(this.root, { recursive: true, force: true });
  }

  /** Synchronous, so it also runs when the test process exits without its afterAll. */
  private readonly killEverythingNow = () => {
    for (const agent of this.agents) signalGroup(agent.pid, "SIGKILL");
    for (const { pid } of processesUnder(this.root)) signal(pid, "SIGKILL");
  };

  async waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, detail?: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) {
        throw new Error(`Timed out after ${timeoutMs / 1000} s waiting until ${what}${detail ? `; ${detail()}` : ""}\n${this.logs()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private elapsed(): string {
    return ((Date.now() - this.started) / 1000).toFixed(2);
  }
}

export const startFarm = (options?: FarmOptions) => Farm.start(options);

/** This machine's benchmarks for the test farms' agents, one per thread count, measured once. */
const BENCHMARKS = path.join(os.tmpdir(), "cactus-test-benchmarks");

/**
 * This machine's benchmark with `threads` render threads, as `cactus-agent benchmark`
 * saves it (benchmark.json): measured by the real agent and Blender the first time, then
 * kept, as an agent keeps its own. Each agent of a farm starts with a copy, so the farms
 * do not spend half a minute per agent measuring the same machine again. An agent whose
 * Blender or CPU differs from the copy's measures anew, as it would anywhere.
 */
export async function machineBenchmark(threads: string): Promise<string> {
  const dir = path.join(BENCHMARKS, `threads-${threads}`);
  const file = path.join(dir, "benchmark.json");
  const lock = path.join(BENCHMARKS, `threads-${threads}.lock`);
  await fs.mkdir(BENCHMARKS, { recursive: true });
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    if (await fs.access(file).then(() => true, () => false)) return file;
    // One test process measures; the others wait for its file.
    const mine = await fs.mkdir(lock).then(() => true, () => false);
    if (mine) {
      try {
        await measure(dir, threads);
        return file;
      } finally {
        await fs.rm(lock, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw new Error(`Waited 5 minutes for ${file}; remove ${lock} if no test is measuring.`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function measure(cacheDir: string, threads: string): Promise<void> {
  const child = spawn(process.execPath, [AGENT_BIN, "benchmark"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: Object.assign({} as NodeJS.ProcessEnv, {
      PATH: process.env.PATH ?? "",
      HOME: os.tmpdir(),
      CACTUS_AGENT_CACHE: cacheDir,
      CACTUS_AGENT_CONFIG: path.join(cacheDir, "no-agent.json"),
      CACTUS_THREADS: threads,
      ...(process.env.CACTUS_BLENDER ? { CACTUS_BLENDER: process.env.CACTUS_BLENDER } : {}),
    }),
  });
  let output = "";
  for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`cactus-agent benchmark exited ${code}:\n${output}`))));
  });
}

/** Processes (other than this one) with `dir` in their command line, read from /proc. */
export function processesUnder(dir: string): FarmProcess[] {
  const found: FarmProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue; // gone meanwhile
    }
    if (argv.some((arg) => arg.includes(dir))) found.push({ pid: Number(entry), argv });
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

const signalGroup = (leader: number, name: NodeJS.Signals) => signal(-leader, name);
