import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { SANDBOX_SETTINGS, type SandboxSetting } from "./sandbox";

// The agent's settings resolve flag > env > config file ($CACTUS_AGENT_CONFIG, or a user's
// ~/.config/cactus/agent.json, or /etc/cactus/agent.json), like the CLI's, so a systemd unit can keep the token in an
// EnvironmentFile while a person tries a flag on the command line.

export type Env = Record<string, string | undefined>;

/** A setting the agent cannot start with; the message says which and how to fix it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const DEFAULT_CACHE_BYTES = 20 * 1024 ** 3;
export const SYSTEM_CONFIG_FILE = "/etc/cactus/agent.json";

const fileConfigSchema = z
  .object({
    server: z.string().optional(),
    token: z.string().optional(),
    blender: z.string().optional(),
    cacheDir: z.string().optional(),
    threads: z.union([z.number(), z.string()]).optional(),
    cacheBytes: z.union([z.number(), z.string()]).optional(),
    schedule: z.string().optional(),
    sandbox: z.string().optional(),
    busyCpu: z.union([z.number(), z.string()]).optional(),
  })
  .strict();
export type FileConfig = z.infer<typeof fileConfigSchema>;

export interface ConfigFlags {
  server?: string;
  token?: string;
  blender?: string;
  cacheDir?: string;
  threads?: string | number;
  cacheBytes?: string | number;
  schedule?: string;
  sandbox?: string;
  busyCpu?: string | number;
}

export interface AgentConfig {
  /** The server's base URL, without a trailing slash; undefined when nothing names one. */
  server?: string;
  /** The worker token (`ccw_…`) from `cactus worker create`. */
  token?: string;
  blender: string;
  cacheDir: string;
  threads: number;
  cacheBytes: number;
  /** A 5-field cron expression of the minutes the agent is awake; null: always. */
  schedule: string | null;
  /** How Blender runs (agent/sandbox.ts): auto is bwrap where it works. */
  sandbox: SandboxSetting;
  /**
   * The share of the CPU (0–1) other programs may keep busy before the agent pauses for its
   * owner (domain/politeness.ts), who also pauses it by opening Blender; null: never pauses.
   */
  busyCpu: number | null;
}

export const DEFAULT_BUSY_CPU = 0.5;

/** What the defaults depend on, so tests can be root or not on any machine. */
export interface Machine {
  isRoot: boolean;
  home: string;
  cores: number;
}

export const thisMachine = (): Machine => ({
  isRoot: process.getuid?.() === 0,
  home: os.homedir(),
  cores: os.availableParallelism(),
});

/** Where the farm's install line keeps a user's own agent's settings (server/install.sh --user). */
export function userConfigFile(home: string): string {
  return path.join(home, ".config", "cactus", "agent.json");
}

/**
 * The config file: CACTUS_AGENT_CONFIG, else for a user other than root the one the install
 * line wrote in their home when it is there, else /etc/cactus/agent.json.
 */
export function configFilePath(env: Env, machine: Machine = thisMachine()): string {
  if (env.CACTUS_AGENT_CONFIG) return env.CACTUS_AGENT_CONFIG;
  const own = userConfigFile(machine.home);
  return !machine.isRoot && existsSync(own) ? own : SYSTEM_CONFIG_FILE;
}

/** The config file; a missing one is empty, a broken one an error that names it. */
export async function readConfigFile(file: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(`Cannot read the agent's config file ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`The agent's config file ${file} is not valid JSON; fix it or remove it.`);
  }
  const parsed = fileConfigSchema.safeParse(json);
  if (!parsed.success) {
    const keys = Object.keys(fileConfigSchema.shape).join(", ");
    throw new ConfigError(`The agent's config file ${file} has settings it does not know or of the wrong type; it may hold ${keys}.`);
  }
  return parsed.data;
}

export function resolveConfig(flags: ConfigFlags, env: Env, file: FileConfig, machine: Machine = thisMachine()): AgentConfig {
  const pick = <T>(flag: T | undefined, envValue: string | undefined, fileValue: T | undefined) =>
    flag !== undefined && flag !== "" ? flag : envValue ? envValue : fileValue;
  const server = pick(flags.server, env.CACTUS_SERVER, file.server);
  const threads = pick(flags.threads, env.CACTUS_THREADS, file.threads);
  const cacheBytes = pick(flags.cacheBytes, env.CACTUS_CACHE_BYTES, file.cacheBytes);
  const cacheDir = pick(flags.cacheDir, env.CACTUS_AGENT_CACHE, file.cacheDir);
  const schedule = pick(flags.schedule, env.CACTUS_SCHEDULE, file.schedule);
  const sandbox = pick(flags.sandbox, env.CACTUS_SANDBOX, file.sandbox);
  const busyCpu = pick(flags.busyCpu, env.CACTUS_BUSY_CPU, file.busyCpu);
  return {
    server: server === undefined ? undefined : normalizeServer(server),
    token: pick(flags.token, env.CACTUS_WORKER_TOKEN, file.token),
    blender: pick(flags.blender, env.CACTUS_BLENDER, file.blender) ?? "blender",
    cacheDir: path.resolve(cacheDir ?? defaultCacheDir(machine)),
    threads: threads === undefined ? machine.cores : parseThreads(threads),
    cacheBytes: cacheBytes === undefined ? DEFAULT_CACHE_BYTES : parseBytes(cacheBytes),
    schedule: schedule ?? null,
    sandbox: sandbox === undefined ? "auto" : parseSandbox(sandbox),
    busyCpu: busyCpu === undefined ? DEFAULT_BUSY_CPU : parseBusyCpu(busyCpu),
  };
}

export async function loadConfig(flags: ConfigFlags, env: Env, machine?: Machine): Promise<AgentConfig> {
  return resolveConfig(flags, env, await readConfigFile(configFilePath(env, machine)), machine);
}

function defaultCacheDir({ isRoot, home }: Machine): string {
  return isRoot ? "/var/cache/cactus-agent" : path.join(home, ".cache", "cactus-agent");
}

/** `localhost:3000/` → `http://localhost:3000`, the base the API paths follow. */
export function normalizeServer(value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`"${value}" is not a server URL; set CACTUS_SERVER like http://farm.example:3000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`"${value}" is not an http(s) URL; set CACTUS_SERVER like http://farm.example:3000`);
  }
  return url.toString().replace(/\/+$/, "");
}

function parseThreads(value: string | number): number {
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError(`Threads must be a whole number ≥ 1, not "${value}" (CACTUS_THREADS or --threads).`);
  }
  return threads;
}

function parseSandbox(value: string): SandboxSetting {
  const setting = SANDBOX_SETTINGS.find((known) => known === value.trim().toLowerCase());
  if (!setting) {
    throw new ConfigError(`The sandbox must be auto, bwrap or off, not "${value}" (CACTUS_SANDBOX or --sandbox).`);
  }
  return setting;
}

/** `50`, `50%` or `off`: how busy other programs may keep the CPU before the agent pauses. */
function parseBusyCpu(value: string | number): number | null {
  if (String(value).trim().toLowerCase() === "off") return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(value));
  const percent = match ? Number(match[1]) : NaN;
  if (!(percent >= 1 && percent <= 100)) {
    throw new ConfigError(
      `The busy CPU share must be a percentage from 1 to 100, or off, not "${value}" (CACTUS_BUSY_CPU or --busy-cpu).`,
    );
  }
  return percent / 100;
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `21474836480`, `20G`, `20GiB` or `500 MB` (binary units either way) in bytes. */
export function parseBytes(value: string | number): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(String(value));
  const bytes = match ? Math.floor(Number(match[1]) * UNITS[match[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new ConfigError(`The cache size must be bytes like 20G or 500M, not "${value}" (CACTUS_CACHE_BYTES or --cache-bytes).`);
  }
  return bytes;
}
