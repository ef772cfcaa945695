import path from "node:path";
import yargs, { type Argv } from "yargs";
import pkg from "../package.json" with { type: "json" };
import { DEFAULT_POLITENESS } from "../domain/politeness";
import { ArchiveCache } from "./archive-cache";
import { describeBenchmark, ensureBenchmark, machineOf, runBenchmark, saveBenchmark, threadsText } from "./benchmark";
import { type BlenderRunner, detectBlender } from "./blender";
import { AgentClient, WorkerUnauthorized } from "./client";
import { type AgentConfig, type ConfigFlags, ConfigError, type Env, loadConfig } from "./config";
import { formatChecks, runDoctor } from "./doctor";
import { detectBlenderAndEngines, engineList } from "./engines";
import { AgentLoop } from "./loop";
import { type Sandbox, detectSandbox, sandboxHint, sandboxedRunner } from "./sandbox";
import { OwnerWatch } from "./owner-watch";
import { parseSchedule } from "./schedule";
import { openWorkDir } from "./task-run";
import { openTimingsLog } from "./timings-log";

// `cactus-agent`: the worker program of Blender Cactus. The only file that exits the
// process; main() runs in-process for tests.

export interface AgentIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Env;
  /** Calls `stop` on SIGTERM / SIGINT; answers a function that unhooks it. */
  onStopSignal(stop: () => void): () => void;
}

export interface AgentDeps {
  /** Runs Blender instead of the sandboxed runner (tests inject a fake Blender here). */
  runner?: BlenderRunner;
  /** Sees the loop once made: tests stop it as SIGTERM would. */
  onLoop?: (loop: AgentLoop) => void;
}

const EXIT = { ok: 0, error: 1, usage: 2, unauthorized: 3 } as const;

interface Flags extends ConfigFlags {
  once?: boolean;
}

function buildParser(argv: string[], io: AgentIo, deps: AgentDeps, result: { code: number }) {
  return yargs(argv)
    .scriptName("cactus-agent")
    .usage("$0 [run] [options]\n\nThe Blender Cactus worker: claims tasks from the farm, renders them with Blender, uploads the frames.")
    .option("server", { type: "string", describe: "The farm's URL (else CACTUS_SERVER, else the config file)" })
    .option("token", { type: "string", describe: "This worker's token (else CACTUS_WORKER_TOKEN, else the config file)" })
    .option("blender", { type: "string", describe: "Blender to run (else CACTUS_BLENDER, else `blender`)" })
    .option("cache-dir", { type: "string", describe: "Where archives are kept (else CACTUS_AGENT_CACHE)" })
    .option("threads", { type: "string", describe: "Render threads (else CACTUS_THREADS, else all cores)" })
    .option("cache-bytes", { type: "string", describe: "Archive cache size, e.g. 20G (else CACTUS_CACHE_BYTES)" })
    .option("busy-cpu", {
      type: "string",
      describe:
        "Pause while other programs keep this % of the CPU busy (or Blender is open on the desktop); off: never (else CACTUS_BUSY_CPU, else 50)",
    })
    .option("sandbox", {
      type: "string",
      describe: "How Blender runs: auto (bwrap where it works), bwrap (or refuse to start), off (else CACTUS_SANDBOX)",
    })
    .command(
      ["run", "$0"],
      "Render the farm's tasks until stopped (the default)",
      (y: Argv) =>
        y
          .option("once", { type: "boolean", describe: "Exit 0 as soon as no task is left for this worker" })
          .option("schedule", { type: "string", describe: 'Cron minutes when the agent is awake, e.g. "* 22-23,0-6 * * *" (default: always)' }),
      async (args) => {
        result.code = await runAgent(args as Flags, io, deps);
      },
    )
    .command(
      "doctor",
      "Check that Blender runs and renders (in its sandbox), the cache is writable, the server answers and the token is valid",
      (y: Argv) => y,
      async (args) => {
        const config = await loadConfig(args as ConfigFlags, io.env);
        const checks = await runDoctor(config, { runner: deps.runner, env: io.env });
        io.stdout.write(`cactus-agent doctor\n${formatChecks(checks)}\n`);
        result.code = checks.some((check) => check.status === "fail") ? EXIT.error : EXIT.ok;
      },
    )
    .command(
      "benchmark",
      "Measure this machine's WUPM: renders the reference frame several times, keeps the result and sends it to the server",
      (y: Argv) => y,
      async (args) => {
        result.code = await benchmark(args as ConfigFlags, io, deps);
      },
    )
    .version(pkg.version)
    .help()
    .alias("help", "h")
    .strict()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 80))
    .fail((message, error) => {
      if (error) throw error;
      throw new ConfigError(`${message}\nRun \`cactus-agent --help\` for usage.`);
    })
    .epilogue(
      "Settings resolve flag > env (CACTUS_SERVER, CACTUS_WORKER_TOKEN, CACTUS_BLENDER, CACTUS_AGENT_CACHE, CACTUS_THREADS, " +
        "CACTUS_CACHE_BYTES, CACTUS_SCHEDULE, CACTUS_SANDBOX, CACTUS_BUSY_CPU) > the config file ($CACTUS_AGENT_CONFIG, else ~/.config/cactus/agent.json " +
        "for a user other than root when it is there, else /etc/cactus/agent.json).\n" +
        "Blender runs with a scrubbed environment, and where bwrap works in a sandbox with no network that sees only its task's files; " +
        "--sandbox off runs it with this user's rights.\n" +
        "SIGTERM finishes the current task, or releases it back to the queue, then exits 0.\n" +
        "Exit codes: 0 ok, 1 error, 2 bad settings, 3 the token is not valid.",
    );
}

async function runAgent(flags: Flags, io: AgentIo, deps: AgentDeps): Promise<number> {
  const config = await loadConfig(flags, io.env);
  const { server, token } = requireServer(config);
  const schedule = config.schedule ? parseSchedule(config.schedule) : null;
  const log = (message: string) => void io.stderr.write(`${message}\n`);
  const client = new AgentClient({
    server,
    token,
    // The error's message names the call already ("upload of frame 3 of task 4: no answer…").
    onRetry: (_what, error, waitMs) => log(`${error.message}; trying again in ${(waitMs / 1000).toFixed(1)} s.`),
  });
  const cache = new ArchiveCache({
    dir: config.cacheDir,
    maxBytes: config.cacheBytes,
    download: (archive, file, signal) => client.downloadArchive(archive, file, { signal }),
    log,
  });
  await cache.open();
  // Each task's frames and each Blender's temp dir live here; a killed agent's leftovers go now.
  const workDir = path.join(config.cacheDir, "tasks");
  const leftovers = await openWorkDir(workDir);
  if (leftovers > 0) log(`Removed ${leftovers} task folder${leftovers === 1 ? "" : "s"} an earlier run left in ${workDir}.`);
  const sandbox = await detectSandbox(config.sandbox, { searchPath: io.env.PATH, tmpRoot: workDir });
  const runner = deps.runner ?? sandboxedRunner(sandbox, { tmpRoot: workDir, searchPath: io.env.PATH });
  const blenderInfo = await detectBlenderAndEngines(config.blender, { runner, log }).catch((error: Error) => {
    throw new Error(error.message + sandboxHint(sandbox));
  });
  const { bytes, entries } = cache.usage();
  log(
    `cactus-agent ${pkg.version}: Blender ${blenderInfo.version} (denoiser: ${blenderInfo.hasDenoiser ? "yes" : "no"}; ` +
      `renders with ${engineList(blenderInfo.engines ?? [])}), ` +
      `sandbox ${sandbox.mode}, ${config.threads} threads, ${entries} cached archives (${bytes} bytes) in ${config.cacheDir}, server ${server}` +
      (schedule ? `, awake "${schedule.expression}"` : "") +
      ".",
  );
  if (sandbox.mode === "off") log(sandboxWarning(sandbox));
  const owner = config.busyCpu === null ? null : new OwnerWatch({ rules: { ...DEFAULT_POLITENESS, busyCpu: config.busyCpu } });
  if (owner) {
    log(
      `It pauses for this machine's owner while other programs keep ${Math.round(config.busyCpu! * 100)} % of the CPU busy ` +
        "or Blender is open on the desktop (--busy-cpu off: never).",
    );
    owner.start();
  }
  // For `npm run bench:agent`: when each task was claimed, rendered, uploaded (JSON lines).
  const timings = io.env.CACTUS_AGENT_TIMINGS ? openTimingsLog(io.env.CACTUS_AGENT_TIMINGS) : null;
  const loop = new AgentLoop({
    client,
    cache,
    blender: config.blender,
    threads: config.threads,
    agentVersion: pkg.version,
    blenderInfo,
    sandbox: sandbox.mode,
    runner,
    workDir,
    once: flags.once,
    schedule,
    benchmark: (last, signal) =>
      ensureBenchmark({
        blender: config.blender,
        cacheDir: config.cacheDir,
        machine: machineOf(blenderInfo.version, config.threads),
        server: last,
        send: (run) => client.benchmark(run, { signal }),
        // In the sandbox, as its renders: the same Blender the WU is measured with.
        runner,
        signal,
        log,
      }),
    owner,
    log,
    observe: timings?.observe,
  });
  deps.onLoop?.(loop);
  const unhook = io.onStopSignal(() => void loop.stop());
  try {
    await loop.run();
  } finally {
    unhook();
    owner?.stop();
    timings?.close();
  }
  return EXIT.ok;
}

/** Said at every start of an agent whose Blender runs unconfined. */
export function sandboxWarning(sandbox: Sandbox): string {
  return (
    `Warning: Blender runs without a sandbox (${sandbox.reason}): a .blend it renders can read any file this user can ` +
    `and reach the network. Keep this worker to renders you trust.`
  );
}

/** `cactus-agent benchmark`: a new run every time; sent to the server when one and a token are set. */
async function benchmark(flags: ConfigFlags, io: AgentIo, deps: AgentDeps): Promise<number> {
  const config = await loadConfig(flags, io.env);
  const log = (message: string) => void io.stderr.write(`${message}\n`);
  const blenderInfo = await detectBlender(config.blender, { runner: deps.runner });
  log(`Measuring WUPM with Blender ${blenderInfo.version} on ${threadsText(config.threads)} (a few renders of the reference frame)…`);
  const run = await runBenchmark({ blender: config.blender, machine: machineOf(blenderInfo.version, config.threads), runner: deps.runner });
  await saveBenchmark(config.cacheDir, run);
  io.stdout.write(`${describeBenchmark(run)}\n`);
  if (!config.server || !config.token) {
    log("Kept on this machine; no server or token set, so not sent (the agent sends it when it starts).");
    return EXIT.ok;
  }
  const { measuredAt: _measuredAt, ...request } = run;
  await new AgentClient({ server: config.server, token: config.token }).benchmark(request);
  log(`Sent to ${config.server}: this worker's WUPM is ${run.wupm.toFixed(2)} from now on.`);
  return EXIT.ok;
}

function requireServer(config: AgentConfig): { server: string; token: string } {
  if (!config.server) throw new ConfigError("No server set: set CACTUS_SERVER (or --server) to the farm's URL.");
  if (!config.token) {
    throw new ConfigError("No worker token set: create one with `cactus worker create NAME` and set CACTUS_WORKER_TOKEN (or --token).");
  }
  return { server: config.server, token: config.token };
}

export function processIo(): AgentIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onStopSignal(stop) {
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      return () => {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
      };
    },
  };
}

/** Runs the agent in-process and answers its exit code. */
export async function main(argv: string[], io: AgentIo = processIo(), deps: AgentDeps = {}): Promise<number> {
  const result = { code: EXIT.ok as number };
  try {
    let printed = "";
    // A parse callback hands over help and version text instead of console.log, so it goes to io.stdout.
    await buildParser(argv, io, deps, result).parseAsync(argv, {}, (_error, _argv, text) => {
      printed = text;
    });
    if (printed) io.stdout.write(`${printed}\n`);
    return result.code;
  } catch (error) {
    io.stderr.write(`cactus-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof ConfigError) return EXIT.usage;
    if (error instanceof WorkerUnauthorized) return EXIT.unauthorized;
    if (io.env.CACTUS_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return EXIT.error;
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/** The binary: the one place the agent ends the process, once its output is written. */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
