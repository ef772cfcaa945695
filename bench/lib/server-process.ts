import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The node flags `npm start` gives the server (package.json), so the benches measure the same. */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=1"];

export interface ServerProcess {
  url: string;
  /** The process that serves HTTP: node itself, tsx loaded in-process (no tsx wrapper). */
  pid: number;
  /** Resolves with the exit code when the process ends, however it ends. */
  exited: Promise<number | null>;
  /** The last lines it printed (stdout and stderr). */
  output(): string;
  /** SIGTERM, then wait for the server to drain (and stop its Postgres); SIGKILL after a minute. */
  stop(): Promise<void>;
}

export interface ProcessOptions {
  /**
   * Its own process group: a Ctrl-C in the terminal reaches only us, not the server and
   * its Postgres, so we can stop the agents before the server they talk to.
   */
  detached?: boolean;
  /** Everything it prints, as it comes (e.g. into a log file). */
  onOutput?: (chunk: string) => void;
}

/**
 * The real server as a child process, so its memory is its own: `node build/server.js`
 * (made by `npm run build`), as `npm start` runs it, with an embedded Postgres in
 * `dataDir` (no DATABASE_URL).
 */
export function startServerProcess(
  options: {
    dataDir: string;
    admin: { username: string; password: string };
    /** More node flags for the server, e.g. `--cpu-prof` to see where an upload's time goes. */
    nodeArgs?: string[];
    /** Default: a free port on 127.0.0.1. */
    port?: number;
    host?: string;
    /** More server settings, e.g. CACTUS_LEASE_SECONDS. */
    env?: Record<string, string>;
  } & ProcessOptions,
): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(options.port ?? 0),
    HOST: options.host ?? "127.0.0.1",
    CACTUS_DATA_DIR: options.dataDir,
    CACTUS_ADMIN_USER: options.admin.username,
    CACTUS_ADMIN_PASSWORD: options.admin.password,
    ...options.env,
  };
  delete env.DATABASE_URL;
  return startNodeProcess(
    [...(options.nodeArgs ?? SERVER_NODE_FLAGS), "build/server.js"],
    env,
    /Cactus is serving on (http:\/\/\S+)/,
    options,
  );
}

/** bench/lib/bare-server.ts: node:http, sha256 and a file write — nothing of Cactus. */
export function startBareServerProcess(dir: string): Promise<ServerProcess> {
  return startNodeProcess(["--import", "tsx", "bench/lib/bare-server.ts", dir], process.env, /Bare upload server on (http:\/\/\S+)/);
}

const OUTPUT_TAIL_CHARS = 64 * 1024;

/** `node ARGS` in the repository, ready once its output matches `serving` (group 1: the URL). */
export async function startNodeProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  serving: RegExp,
  { detached = false, onOutput }: ProcessOptions = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Whole until it serves (the URL is in there), then only its tail: a demo runs for hours.
  let log = "";
  let url: string | undefined;
  const heard = (chunk: string) => {
    log += chunk;
    if (url !== undefined && log.length > 2 * OUTPUT_TAIL_CHARS) log = log.slice(-OUTPUT_TAIL_CHARS);
    onOutput?.(chunk);
  };
  child.stdout!.setEncoding("utf8").on("data", heard);
  child.stderr!.setEncoding("utf8").on("data", heard);

  const stop = () => stopChild(child, exited);
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${args.join(" ")} did not start within 2 minutes:\n${log}`)), 120_000);
      const look = () => {
        const match = serving.exec(log);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off("data", look);
        resolve(match[1]);
      };
      child.stdout!.on("data", look);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`node ${args.join(" ")} exited (${code}) before serving:\n${log}`));
      });
    });
    return { url, pid: child.pid!, exited, output: () => log.slice(-OUTPUT_TAIL_CHARS), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 60_000).unref());
  if ((await Promise.race([exited, timeout])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * Builds the server (`npm run build`), as `npm start` does: a build left from older
 * sources would otherwise run, or be measured, instead of the code in the tree.
 */
export async function buildServer(): Promise<void> {
  console.error("Building the server (npm run build)…");
  const child = spawn("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`npm run build failed (exit ${code})`);
}
