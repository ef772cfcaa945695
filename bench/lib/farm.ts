import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { ArchiveDto, CreatedWorkerDto, ProjectDto, RenderDto, WorkerDto } from "../../contract";
import { callApi, streamUpload, uploadUrl } from "./api";
import { ROOT, type ProcessOptions } from "./server-process";

// A farm on this machine for `npm run demo` and `npm run bench:agent`: the API calls a
// person makes before agents can render (sign in, project, upload, worker, render), and
// `cactus-agent` as a child process.

export interface User {
  username: string;
  password: string;
}

/** An API token for the user (a session of the CLI's kind). */
export async function signIn(server: string, user: User, tokenName: string): Promise<string> {
  const { token } = await callApi<{ token: string }>(server, "POST", "/auth/login", undefined, { ...user, tokenName });
  return token;
}

/** The user's project of that name, made when missing. */
export async function ensureProject(server: string, token: string, name: string): Promise<ProjectDto> {
  const { projects } = await callApi<{ projects: ProjectDto[] }>(server, "GET", "/projects", token);
  return projects.find((project) => project.name === name) ?? callApi<ProjectDto>(server, "POST", "/projects", token, { name });
}

/** Uploads a .blend into the project (the server answers the archive it has when it knows the bytes). */
export async function uploadBlend(server: string, token: string, projectId: number, file: string): Promise<ArchiveDto> {
  const bytes = await fs.readFile(file);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const answer = await streamUpload({ url: uploadUrl(server, projectId, path.basename(file)), token, file, size: bytes.length, sha256 });
  return answer.body as unknown as ArchiveDto;
}

export function createWorker(server: string, token: string, name: string): Promise<CreatedWorkerDto> {
  return callApi<CreatedWorkerDto>(server, "POST", "/workers", token, { name });
}

export async function listWorkers(server: string, token: string): Promise<WorkerDto[]> {
  return (await callApi<{ workers: WorkerDto[] }>(server, "GET", "/workers", token)).workers;
}

export const getArchive = (server: string, token: string, id: number) => callApi<ArchiveDto>(server, "GET", `/archives/${id}`, token);
export const getRender = (server: string, token: string, id: number) => callApi<RenderDto>(server, "GET", `/renders/${id}`, token);
export async function listRenders(server: string, token: string): Promise<RenderDto[]> {
  return (await callApi<{ renders: RenderDto[] }>(server, "GET", "/renders", token)).renders;
}
export const requestRender = (server: string, token: string, request: { archiveId: number; frames?: string; chunk?: number }) =>
  callApi<RenderDto>(server, "POST", "/renders", token, request);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until an agent has read the archive's scene (its frame range is known). `stillHope`
 * throws to give up early, e.g. when the agent that should inspect it has exited.
 */
export async function waitForInspection(
  server: string,
  token: string,
  archiveId: number,
  { timeoutMs = 180_000, stillHope = () => undefined }: { timeoutMs?: number; stillHope?: () => void } = {},
): Promise<ArchiveDto> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const archive = await getArchive(server, token, archiveId);
    if (archive.facts.frameStart !== null && archive.facts.frameEnd !== null) return archive;
    stillHope();
    if (Date.now() > deadline) {
      // The render request says why the range is not known (e.g. the inspection failed).
      const why = await requestRender(server, token, { archiveId }).then(
        (render) => `yet a render was made (${render.id})`,
        (error: Error) => error.message,
      );
      throw new Error(`No agent read archive ${archiveId}'s scene within ${timeoutMs / 1000} s: ${why}`);
    }
    await sleep(250);
  }
}

export interface AgentProcess {
  pid: number;
  exited: Promise<number | null>;
  /** The last lines it printed. */
  output(): string;
  /** SIGTERM (it finishes or releases its task), then waits; SIGKILL to its group after a minute. */
  stop(): Promise<number | null>;
}

const OUTPUT_TAIL_CHARS = 64 * 1024;

/** `cactus-agent run` as a child process (agent/bin/cactus-agent.js, as `npx cactus-agent` runs it). */
export function startAgent(
  options: {
    server: string;
    token: string;
    cacheDir: string;
    /** Exit 0 at the first claim that finds nothing. */
    once?: boolean;
    threads?: number;
    /** More environment, e.g. CACTUS_AGENT_TIMINGS. */
    env?: Record<string, string>;
  } & ProcessOptions,
): AgentProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CACTUS_SERVER: options.server,
    CACTUS_WORKER_TOKEN: options.token,
    CACTUS_AGENT_CACHE: options.cacheDir,
    // Only what is given here: not a config file this machine may have for a real agent.
    CACTUS_AGENT_CONFIG: path.join(options.cacheDir, "no-agent.json"),
    // The farm's own server and Postgres run beside it: not an owner at work.
    CACTUS_BUSY_CPU: "off",
    ...(options.threads ? { CACTUS_THREADS: String(options.threads) } : {}),
    ...options.env,
  };
  const args = [path.join(ROOT, "agent/bin/cactus-agent.js"), "run", ...(options.once ? ["--once"] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: options.detached });
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.on("error", () => resolve(null));
  });
  let log = "";
  const heard = (chunk: string) => {
    log = (log + chunk).slice(-OUTPUT_TAIL_CHARS);
    options.onOutput?.(chunk);
  };
  child.stdout!.setEncoding("utf8").on("data", heard);
  child.stderr!.setEncoding("utf8").on("data", heard);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    exited,
    output: () => log,
    async stop() {
      if (!running()) return exited;
      child.kill("SIGTERM");
      const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 60_000).unref());
      if ((await Promise.race([exited, timeout])) === "timeout") {
        // Its Blender too, when it has its own process group.
        if (options.detached) process.kill(-child.pid!, "SIGKILL");
        else child.kill("SIGKILL");
      }
      return exited;
    },
  };
}
