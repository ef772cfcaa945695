import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { main } from "../index";
import type { InStream } from "../lib/context";

export const SERVER = "http://cactus.test";
export const API = `${SERVER}/api/v1`;
export const TOKEN = "cct_test_token";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that remembers what was written, like a pipe or (isTTY) a terminal. */
export function memoryStream(isTTY = false): { write(chunk: string): boolean; isTTY: boolean; text(): string } {
  let text = "";
  return {
    isTTY,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    text: () => text,
  };
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** Keys typed at a terminal (stdin is then a TTY). */
  typed?: string;
  stderrTTY?: boolean;
  stdoutTTY?: boolean;
}

let configFile = "";

/** Every setRawMode call on the fake terminal's stdin, to check the prompt hides input and restores. */
export const rawModes: boolean[] = [];

/** The temp config file of the current test (`CACTUS_CONFIG`). */
export function testConfigFile(): string {
  return configFile;
}

export async function writeTestConfig(config: object): Promise<void> {
  await fs.mkdir(path.dirname(configFile), { recursive: true });
  await fs.writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
}

export async function readTestConfig(): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(configFile, "utf8")) as Record<string, unknown>;
}

/** Runs `cactus …` in-process: the environment is only what the test gives, plus its config file. */
export async function cactus(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const stdout = memoryStream(options.stdoutTTY);
  const stderr = memoryStream(options.stderrTTY);
  const stdin: InStream =
    options.typed !== undefined
      ? Object.assign(new PassThrough(), { isTTY: true, setRawMode: (mode: boolean) => rawModes.push(mode) })
      : Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  if (options.typed !== undefined) (stdin as PassThrough).write(options.typed);
  const code = await main(argv, { stdin, stdout, stderr, env: { CACTUS_CONFIG: configFile, ...options.env } });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Logged in to the fake server, as `cactus login` would leave it. */
export function loggedIn(): Promise<void> {
  return writeTestConfig({ server: SERVER, token: TOKEN });
}

/**
 * msw at the HTTP edge, strict about unexpected requests, and a fresh temp config file
 * per test.
 */
export function setupCliTest() {
  const server = setupServer();
  let dir = "";
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-cli-test-"));
    configFile = path.join(dir, "cactus", "config.json");
  });
  afterEach(async () => {
    server.resetHandlers();
    await fs.rm(dir, { recursive: true, force: true });
  });
  afterAll(() => server.close());
  return server;
}
