import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ADMIN } from "./server";

// A server replica as production runs one: `node build/server.js` (npm start's command)
// in a process of its own, with its own data dir, on a Postgres and a blob store that
// other replicas share. Nothing is shared in memory, so what two replicas agree on went
// through Postgres or the store.

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface ReplicaOptions {
  name: string;
  databaseUrl: string;
  /** Server settings (CACTUS_S3_*, leases…). */
  env: Record<string, string>;
  /** A fixed port (a restart keeps its address); by default a free one. */
  port?: number;
}

export class Replica {
  /** What it printed, a line each. */
  readonly log: string[] = [];
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  url = "";
  port = 0;

  private constructor(
    private readonly options: ReplicaOptions,
    readonly dataDir: string,
  ) {}

  /** Starts it and waits until it serves. */
  static async start(options: ReplicaOptions): Promise<Replica> {
    const replica = new Replica(options, await fs.mkdtemp(path.join(os.tmpdir(), `cactus-replica-${options.name}-`)));
    await replica.boot(options.port ?? 0);
    return replica;
  }

  get name(): string {
    return this.options.name;
  }

  get databaseUrl(): string {
    return this.options.databaseUrl;
  }

  alive(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** kill -9, as a crashed machine: no request finishes, no connection is closed politely. */
  async kill(): Promise<void> {
    this.process?.kill("SIGKILL");
    await this.exited;
  }

  /** Starts it again on the same port and data dir (after kill or close). */
  async restart(): Promise<void> {
    await this.boot(this.port);
  }

  /** SIGTERM, as systemd or compose stops it: running requests finish. Safe to call twice. */
  async close(): Promise<void> {
    if (this.alive()) this.process!.kill("SIGTERM");
    const timer = setTimeout(() => this.process?.kill("SIGKILL"), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  async remove(): Promise<void> {
    await this.close();
    await fs.rm(this.dataDir, { recursive: true, force: true });
  }

  private async boot(port: number): Promise<void> {
    const child = spawn(process.execPath, ["--max-semi-space-size=1", path.join(ROOT, "build/server.js")], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: Object.assign({} as NodeJS.ProcessEnv, {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: String(port),
        DATABASE_URL: this.options.databaseUrl,
        CACTUS_DATA_DIR: this.dataDir,
        CACTUS_ADMIN_USER: ADMIN.username,
        CACTUS_ADMIN_PASSWORD: ADMIN.password,
        ...this.options.env,
      }),
    });
    this.process = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const serving = new Promise<string>((resolve, reject) => {
      for (const stream of [child.stdout!, child.stderr!]) {
        let partial = "";
        stream.setEncoding("utf8").on("data", (chunk: string) => {
          const lines = (partial + chunk).split("\n");
          partial = lines.pop()!;
          for (const line of lines) {
            this.log.push(line);
            const match = /Cactus is serving on (http:\/\/\S+)/.exec(line);
            if (match) resolve(match[1]);
          }
        });
      }
      child.once("exit", (code, signal) => reject(new Error(`Replica ${this.name} exited (${signal ?? code}) before serving:\n${this.log.join("\n")}`)));
    });
    this.url = await serving;
    this.port = Number(new URL(this.url).port);
  }
}
