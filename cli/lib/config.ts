import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { UsageError, UserError } from "./errors";

/** What `cactus login` remembers between runs. */
const storedConfigSchema = z.object({
  server: z.string().optional(),
  token: z.string().optional(),
});
export type StoredConfig = z.infer<typeof storedConfigSchema>;

export type Env = Record<string, string | undefined>;

export function configPath(env: Env): string {
  return env.CACTUS_CONFIG || path.join(os.homedir(), ".config", "cactus", "config.json");
}

/** The config file; a missing file is an empty config, a broken one an error saying where. */
export async function readConfig(file: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UserError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`the config file ${file} is not valid JSON; fix or delete it, then run \`cactus login\` again`);
  }
  const config = storedConfigSchema.safeParse(parsed);
  if (!config.success) {
    throw new UserError(`the config file ${file} is not a cactus config; fix or delete it, then run \`cactus login\` again`);
  }
  return config.data;
}

/**
 * Writes the config so that only its owner can read the token: the directory 0700, the
 * file 0600, replaced atomically (a temp file renamed over it) so a crash never leaves
 * half a file.
 */
export async function writeConfig(file: string, config: StoredConfig): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    // The mode of writeFile only applies when it creates the file; make sure anyway.
    await fs.chmod(temp, 0o600);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw new UserError(`cannot write the config file ${file}: ${(error as Error).message}`);
  }
}

export interface SettingFlags {
  server?: string;
  token?: string;
}

export interface Settings {
  server?: string;
  token?: string;
}

/** Settings resolve flag > env (`CACTUS_SERVER`, `CACTUS_TOKEN`) > config file. */
export function resolveSettings(flags: SettingFlags, env: Env, file: StoredConfig): Settings {
  const server = flags.server || env.CACTUS_SERVER || file.server;
  return {
    server: server === undefined ? undefined : normalizeServer(server),
    token: flags.token || env.CACTUS_TOKEN || file.token,
  };
}

/** `localhost:3000/` → `http://localhost:3000`: the base the API paths are appended to. */
export function normalizeServer(value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`"${value}" is not a server URL; give one like http://localhost:3000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`"${value}" is not an http(s) URL; give one like http://localhost:3000`);
  }
  return url.toString().replace(/\/+$/, "");
}
