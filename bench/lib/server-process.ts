import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface ServerProcess {
  url: string;
  /** The process that serves HTTP: node itself, tsx loaded in-process (no tsx wrapper). */
  pid: number;
  /** SIGTERM, then wait for the server to drain (and stop its Postgres); SIGKILL after a minute. */
  stop(): Promise<void>;
}

/**
 * The real server as a child process, so its memory is its own: `node --import tsx
 * server/main.ts`, as `npm start` runs it, with an embedded Postgres in `dataDir` (no
 * DATABASE_URL).
 */
export function startServerProcess(options: {
  dataDir: string;
  admin: { username: string; password: string };
  /** More node flags for the server, e.g. `--cpu-prof` to see where an upload's time goes. */
  nodeArgs?: string[];
}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: "0",
    HOST: "127.0.0.1",
    CACTUS_DATA_DIR: options.dataDir,
    CACTUS_ADMIN_USER: options.admin.username,
    CACTUS_ADMIN_PASSWORD: options.admin.password,
  };
  delete env.DATABASE_URL;
  return startNodeProcess([...(options.nodeArgs ?? []), "--import", "tsx", "server/main.ts"], env, /Cactus is serving on (http:\/\/\S+)/);
}

/** bench/lib/bare-server.ts: node:http, sha256 and a file write — nothing of Cactus. */
export function startBareServerProcess(dir: string): Promise<ServerProcess> {
  return startNodeProcess(["--import", "tsx", "bench/lib/bare-server.ts", dir], process.env, /Bare upload server on (http:\/\/\S+)/);
}

/** `node ARGS` in the repository, ready once its output matches `serving` (group 1: the URL). */
async function startNodeProcess(args: string[], env: NodeJS.ProcessEnv, serving: RegExp): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let log = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));

  const stop = () => stopChild(child, exited);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${args.join(" ")} did not start within 2 minutes:\n${log}`)), 120_000);
      child.stdout!.on("data", () => {
        const match = serving.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`node ${args.join(" ")} exited (${code}) before serving:\n${log}`));
      });
    });
    return { url, pid: child.pid!, stop };
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

/** The Remix build the server imports; built once when missing. */
export async function ensureBuild(): Promise<void> {
  try {
    await fs.access(path.join(ROOT, "build/index.js"));
    return;
  } catch {
    // Not built yet: build below.
  }
  console.error("build/index.js is missing: running `npm run build` first…");
  const child = spawn("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`npm run build failed (exit ${code})`);
}
