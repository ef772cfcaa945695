import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { blendBytes, zipBytes } from "../helpers/fixtures";
import { ADMIN, startTestServer, type TestServer } from "../helpers/server";

// The real `cactus` binary, a process of its own, against the real server over HTTP:
// what a person or a CI script sees, down to exit codes and the config file's mode.

const BIN = path.resolve(import.meta.dirname, "../../cli/bin/cactus.js");
const PROJECT = "Spring short";

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  /** Another user's config file; the admin's by default. */
  config?: string;
}

let server: TestServer;
let proxy: CountingProxy;
let work: string;
let home: string;
let adminConfig: string;
let blendFile: string;
let zipFile: string;

/** Runs `node cli/bin/cactus.js ARGS` in the work dir, with only the environment given here. */
function cactus(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: work,
    env: childEnv(options),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Nothing of the test runner's environment leaks in: no stray CACTUS_TOKEN, no NODE_OPTIONS. */
function childEnv(options: RunOptions): NodeJS.ProcessEnv {
  const env = { PATH: process.env.PATH ?? "", HOME: home, NO_COLOR: "1", CACTUS_CONFIG: options.config ?? adminConfig };
  // Remix's globals declare NODE_ENV as always set; the CLI does not read it.
  return Object.assign({} as NodeJS.ProcessEnv, env, options.env);
}

/** A command that must succeed, with its `--json` output parsed. */
async function cactusJson<T = Record<string, unknown>>(args: string[], options?: RunOptions): Promise<T> {
  const result = await cactus([...args, "--json"], options);
  expect(result, result.stderr).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout) as T;
}

/**
 * A TCP relay in front of the server that keeps every byte the clients send, so a test
 * can tell what went over the wire — a body or no body — rather than trust the answer.
 */
interface CountingProxy {
  url: string;
  /** Starts a new recording; returns what the clients sent since the last one. */
  take(): Buffer;
  close(): Promise<void>;
}

async function startCountingProxy(target: number): Promise<CountingProxy> {
  let sent: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("data", (chunk: Buffer) => sent.push(chunk));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const { port } = relay.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    take() {
      const all = Buffer.concat(sent);
      sent = [];
      return all;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}

/** `POST /api/v1/…` for each request the clients sent, in order. */
function requestLines(bytes: Buffer): string[] {
  return [...bytes.toString("latin1").matchAll(/(GET|POST|PATCH|DELETE) (\/api\/v1\/\S*) HTTP\/1\.1\r\n/g)].map(
    (match) => `${match[1]} ${match[2]}`,
  );
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** A .blend saved by the real Blender, not a hand-made header. */
async function saveBlendWithBlender(file: string): Promise<void> {
  const expr = `import bpy; bpy.ops.wm.save_as_mainfile(filepath=${JSON.stringify(file)})`;
  const child = spawn("blender", ["-b", "--factory-startup", "--python-expr", expr], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) throw new Error(`blender exited ${code}:\n${log}`);
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-e2e-cli-"));
  home = path.join(work, "home");
  await fs.mkdir(home);
  adminConfig = path.join(work, "admin", "config.json");
  blendFile = path.join(work, "shot.blend");
  zipFile = path.join(work, "shot020.zip");
  const zip = zipBytes([
    { name: "scenes/a.blend", data: blendBytes({ version: "304" }) },
    { name: "scenes/b.blend", data: blendBytes({ version: "402" }), method: "deflate" },
    { name: "textures/wood.png", data: Buffer.from("not really a png") },
  ]);
  [server] = await Promise.all([startTestServer(), saveBlendWithBlender(blendFile), fs.writeFile(zipFile, zip)]);
  proxy = await startCountingProxy(server.port);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe("the cactus binary against a real server", { timeout: 60_000 }, () => {
  test("--help exits 0 and lists the commands", async () => {
    const result = await cactus(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["login", "logout", "whoami", "signup", "project", "archive", "render", "worker", "token", "invite"]) {
      expect(result.stdout).toContain(`cactus ${command}`);
    }
  });

  test("login takes the password on stdin and writes a 0600 config at CACTUS_CONFIG, not under HOME", async () => {
    const result = await cactus(["login", "--server", proxy.url, "--username", ADMIN.username, "--password-stdin"], {
      stdin: `${ADMIN.password}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Logged in to ${proxy.url} as admin`);
    const config = JSON.parse(await fs.readFile(adminConfig, "utf8")) as { server: string; token: string };
    expect(config).toEqual({ server: proxy.url, token: expect.stringMatching(/^\S{20,}$/) });
    expect((await fs.stat(adminConfig)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(home)).toEqual([]);
  });

  test("whoami --json prints the signed-in admin", async () => {
    expect(await cactusJson(["whoami"])).toMatchObject({ username: "admin", role: "admin" });
  });

  test("project create --json prints the new project", async () => {
    expect(await cactusJson(["project", "create", PROJECT])).toMatchObject({ id: expect.any(Number), name: PROJECT });
  });

  test("archive upload sends a Blender-saved .blend and answers 201 with its facts", async () => {
    const bytes = await fs.readFile(blendFile);
    proxy.take();
    const archive = await cactusJson(["archive", "upload", "shot.blend", "--project", PROJECT]);
    const sent = proxy.take();
    expect(archive).toMatchObject({
      filename: "shot.blend",
      kind: "blend",
      size: bytes.length,
      hash: sha256(bytes),
      mainPath: null,
      deduplicated: false,
      facts: { blenderVersion: "3.4", compression: "none" },
    });
    // The server's 404 to "do you have it?" is what made the CLI send the body.
    const lines = requestLines(sent);
    expect(lines.filter((line) => line.endsWith("/archives/dedupe"))).toHaveLength(1);
    expect(lines.filter((line) => line.includes("/archives?filename=shot.blend"))).toHaveLength(1);
    expect(sent.length).toBeGreaterThan(bytes.length);
  });

  test("the same file again is deduplicated: the CLI sends no body", async () => {
    const bytes = await fs.readFile(blendFile);
    proxy.take();
    const archive = await cactusJson(["archive", "upload", blendFile, "--project", PROJECT]);
    const sent = proxy.take();
    expect(archive).toMatchObject({ hash: sha256(bytes), deduplicated: true });
    const lines = requestLines(sent);
    expect(lines.some((line) => line.endsWith("/archives/dedupe"))).toBe(true);
    expect(lines.some((line) => line.includes("/archives?"))).toBe(false);
    // Headers and a small JSON body, nowhere near the file's 800-odd KB.
    expect(sent.length).toBeLessThan(16 * 1024);
  });

  test("a zip with two blends uploads with --main naming the one to render", async () => {
    const bytes = await fs.readFile(zipFile);
    const archive = await cactusJson(["archive", "upload", "shot020.zip", "--project", PROJECT, "--main", "scenes/b.blend"]);
    expect(archive).toMatchObject({
      kind: "zip",
      mainPath: "scenes/b.blend",
      size: bytes.length,
      hash: sha256(bytes),
      deduplicated: false,
      facts: { blenderVersion: "4.2" },
    });
  });

  test("archive list --json shows both archives of the project", async () => {
    const { archives } = await cactusJson<{ archives: { filename: string; kind: string; mainPath: string | null }[] }>([
      "archive",
      "list",
      "--project",
      PROJECT,
    ]);
    expect(archives.map(({ filename, kind, mainPath }) => ({ filename, kind, mainPath })).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { filename: "shot.blend", kind: "blend", mainPath: null },
      { filename: "shot020.zip", kind: "zip", mainPath: "scenes/b.blend" },
    ]);
  });

  test("an unknown project exits 4", async () => {
    const result = await cactus(["archive", "list", "--project", "No such film", "--json"]);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('no project "No such film"');
  });

  test("worker create --json prints its token once; worker list shows the worker, not the token", async () => {
    const worker = await cactusJson<{ id: number; name: string; token: string; agentInstall: string }>(["worker", "create", "studio-pc"]);
    expect(worker).toEqual({
      id: expect.any(Number),
      name: "studio-pc",
      token: expect.stringMatching(/^ccw_/),
      // The line that installs its agent from the farm the CLI reached (here through a proxy).
      agentInstall: expect.stringMatching(/^curl -fsSL http:\/\/127\.0\.0\.1:\d+\/agent\/install\.sh \| sh -s -- --token ccw_\S+$/),
    });
    const { workers } = await cactusJson<{ workers: { id: number; name: string; status: string }[] }>(["worker", "list"]);
    expect(workers).toEqual([expect.objectContaining({ id: worker.id, name: "studio-pc", status: "offline" })]);
    expect(JSON.stringify(workers)).not.toContain(worker.token);
  });

  test("render request queues frames of the uploaded .blend; status, then cancel; --watch of it exits 1", async () => {
    const { archives } = await cactusJson<{ archives: { id: number; filename: string }[] }>(["archive", "list", "--project", PROJECT]);
    const archiveId = String(archives.find((archive) => archive.filename === "shot.blend")!.id);
    // No agent has read the scene yet, so its frame range is not known.
    const unknownRange = await cactus(["render", "request", "--archive", archiveId]);
    expect(unknownRange.code).toBe(1);
    expect(unknownRange.stderr).toContain("give --frames");
    expect((await cactus(["render", "request", "--archive", archiveId, "--format", "tiff"])).code).toBe(2);

    const render = await cactusJson<{ id: number; status: string; tasks: number }>(["render", "request", "--archive", archiveId, "--frames", "1-4"]);
    expect(render).toMatchObject({ status: "queued", tasks: 4 });
    const status = await cactusJson(["render", "status", String(render.id)]);
    expect(status).toMatchObject({ id: render.id, status: "queued", frames: { total: 4, done: 0, failed: 0, rendering: 0, queued: 4 }, workers: [] });
    expect((await cactus(["render", "cancel", String(render.id)])).code).toBe(0);
    const watched = await cactus(["render", "status", String(render.id), "--watch"]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toBe(`render ${render.id} cancelled: 0/4 done, 0 rendering, 0 queued, 0 failed\n`);
    const download = await cactus(["render", "download", String(render.id), "--out", path.join(work, "frames")]);
    expect(download.code).toBe(4);
    expect(download.stderr).toContain("no rendered frames");
  });

  test("a token the server does not know exits 3", async () => {
    const result = await cactus(["whoami", "--json"], { env: { CACTUS_TOKEN: "nonsense" } });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("cactus login");
  });

  test("a missing argument exits 2 and points at the command's help", async () => {
    const result = await cactus(["project", "create"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cactus project create --help");
  });

  test("invite create, then signup with the code as bob, in bob's own config", async () => {
    const invitation = await cactusJson<{ code: string; email: string }>(["invite", "create", "--email", "bob@example.com"]);
    expect(invitation.email).toBe("bob@example.com");
    const bobConfig = path.join(work, "bob", "config.json");
    const signup = await cactus(
      ["signup", "--server", proxy.url, "--invite", invitation.code, "--username", "bob", "--password-stdin", "--json"],
      { stdin: "bob's long password\n", config: bobConfig },
    );
    expect(signup.code, signup.stderr).toBe(0);
    expect(JSON.parse(signup.stdout)).toMatchObject({ server: proxy.url, user: { username: "bob", role: "user" } });
    expect((await fs.stat(bobConfig)).mode & 0o777).toBe(0o600);
    expect(await cactusJson(["whoami"], { config: bobConfig })).toMatchObject({ username: "bob" });

    // The admin's project is not bob's, and a code works once.
    const foreign = await cactus(["archive", "list", "--project", PROJECT], { config: bobConfig });
    expect(foreign.code).toBe(4);
    const again = await cactus(
      ["signup", "--server", proxy.url, "--invite", invitation.code, "--username", "carol", "--password-stdin"],
      { stdin: "carol's long password\n", config: path.join(work, "carol", "config.json") },
    );
    expect(again.code).toBe(1);
  });

  test("bob's upload of the admin's bytes still sends them: a hash reveals nothing of other people's files", async () => {
    const bobConfig = path.join(work, "bob", "config.json");
    await cactusJson(["project", "create", "Bob's film"], { config: bobConfig });
    proxy.take();
    const archive = await cactusJson(["archive", "upload", blendFile, "--project", "Bob's film"], { config: bobConfig });
    expect(archive).toMatchObject({ deduplicated: false, facts: { blenderVersion: "3.4" } });
    expect(proxy.take().length).toBeGreaterThan((await fs.stat(blendFile)).size);
  });

  test("token create --json, then the token works as CACTUS_TOKEN with no config file", async () => {
    const token = await cactusJson<{ name: string; token: string }>(["token", "create", "--name", "ci"]);
    expect(token.name).toBe("ci");
    const ci = { config: path.join(work, "ci", "none.json"), env: { CACTUS_SERVER: server.url, CACTUS_TOKEN: token.token } };
    expect(await cactusJson(["whoami"], ci)).toMatchObject({ username: "admin" });
    const { archives } = await cactusJson<{ archives: unknown[] }>(["archive", "list", "--project", PROJECT], ci);
    expect(archives).toHaveLength(2);
    await expect(fs.access(ci.config)).rejects.toThrow();
  });

  test("logout revokes the token: the config keeps only the server and the old token is refused", async () => {
    const { token } = JSON.parse(await fs.readFile(adminConfig, "utf8")) as { token: string };
    const result = await cactus(["logout"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(adminConfig, "utf8"))).toEqual({ server: proxy.url });
    expect((await fs.stat(adminConfig)).mode & 0o777).toBe(0o600);
    const revoked = await cactus(["whoami"], { env: { CACTUS_TOKEN: token } });
    expect(revoked.code).toBe(3);
    const signedOut = await cactus(["whoami"]);
    expect(signedOut.code).toBe(3);
    expect(signedOut.stderr).toContain("not logged in");
  });
});
