import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { inspectImage } from "../../domain/image";
import { makeScene } from "../helpers/scenes";
import { ADMIN, startTestServer, type TestServer } from "../helpers/server";

// One command to join (decision 027), as a new helper would: in a fresh directory far from
// this repository, with a HOME of its own and nothing but the system's PATH, the farm's own
// install lines put `cactus` and `cactus-agent` there (no package registry asked), the CLI
// signs in and asks for a frame, and the agent the Workers page's line installed renders it.

const REPO = path.resolve(import.meta.dirname, "../..");
let server: TestServer;
let dir: string;
let home: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-fresh-machine-"));
  home = path.join(dir, "home");
  await fs.mkdir(home);
});
afterAll(async () => {
  await server?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A shell on the "new machine": its own HOME and work dir, the system's PATH alone, no npm anywhere near. */
function onMachine(command: string, stdin = "") {
  return execa("sh", ["-c", command], {
    cwd: dir,
    // CACTUS_BUSY_CPU=off: the tests beside this one on the machine are not its owner at work.
    env: { HOME: home, PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", NO_COLOR: "1", CACTUS_BUSY_CPU: "off" },
    extendEnv: false,
    input: stdin,
    reject: false,
    all: true,
  });
}

test("the install lines put both commands in ~/.local/bin, and the agent they install renders a frame", { timeout: 300_000 }, async () => {
  expect(dir.startsWith(REPO)).toBe(false);
  const cli = await onMachine(`curl -fsSL ${server.url}/cli/install.sh | sh -s -- --user`);
  expect(cli.exitCode, cli.all).toBe(0);
  expect(cli.all).toContain(`Installed ${home}/.local/bin/cactus (0.1.0).`);
  const cactus = `${home}/.local/bin/cactus`;

  const login = await onMachine(`${cactus} login --server ${server.url} --username ${ADMIN.username} --password-stdin`, `${ADMIN.password}\n`);
  expect(login.exitCode, login.all).toBe(0);
  const created = await onMachine(`${cactus} worker create fresh-box --json`);
  expect(created.exitCode, created.all).toBe(0);
  const worker = JSON.parse(created.stdout) as { token: string; agentInstall: string };
  expect(worker.agentInstall).toBe(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --token ${worker.token}`);

  // The Workers page's line, as root told to install for this user (root would make a service).
  const install = await onMachine(`${worker.agentInstall} --user`);
  expect(install.exitCode, install.all).toBe(0);
  expect(install.all).toContain(`Installed ${home}/.local/bin/cactus-agent (0.1.0).`);
  expect(install.all).toContain(`Saved the server and the worker's token in ${home}/.config/cactus/agent.json (mode 0600).`);
  expect(install.all).toMatch(/✓ Blender renders/);
  expect(install.all).toMatch(/✓ Server: .*answers/);
  expect(install.all).toContain(`Start rendering:  ${home}/.local/bin/cactus-agent`);
  expect((await fs.stat(`${home}/.config/cactus/agent.json`)).mode & 0o777).toBe(0o600);
  // The command is the farm's bundle, run by node, found nowhere near a node_modules.
  const wrapper = await fs.readFile(`${home}/.local/bin/cactus-agent`, "utf8");
  expect(wrapper).toContain(`exec node "${home}/.local/lib/cactus-agent/cactus-agent.mjs"`);

  const scene = await makeScene({ path: path.join(dir, "shot.blend"), frames: 2 });
  await onMachine(`${cactus} project create Fresh`);
  const uploaded = await onMachine(`${cactus} archive upload ${scene} --project Fresh --json`);
  expect(uploaded.exitCode, uploaded.all).toBe(0);
  const archiveId = (JSON.parse(uploaded.stdout) as { id: number }).id;
  const requested = await onMachine(`${cactus} render request --archive ${archiveId} --frames 2 --json`);
  expect(requested.exitCode, requested.all).toBe(0);
  const renderId = (JSON.parse(requested.stdout) as { id: number }).id;

  // It reads ~/.config/cactus/agent.json by itself: no server or token on its command line.
  const agent = await onMachine(`${home}/.local/bin/cactus-agent --once --threads 1`);
  expect(agent.exitCode, agent.all).toBe(0);
  expect(agent.all).toMatch(/frames 2-2 done/);
  const status = await onMachine(`${cactus} render status ${renderId} --json`);
  expect(JSON.parse(status.stdout)).toMatchObject({ status: "done" });

  const download = await onMachine(`${cactus} render download ${renderId} --out frames/`);
  expect(download.exitCode, download.all).toBe(0);
  const [frame] = await fs.readdir(path.join(dir, "frames"));
  expect(inspectImage(await fs.readFile(path.join(dir, "frames", frame)))).toMatchObject({ format: "PNG", width: 64, height: 48 });
});

test("a download that does not match the farm's sha256 installs nothing; a wrong token is refused before anything", async () => {
  const script = await (await fetch(`${server.url}/agent/install.sh`)).text();
  const tampered = path.join(dir, "tampered.sh");
  await fs.writeFile(tampered, script.replace(/^SHA256='[0-9a-f]+'$/m, `SHA256='${"0".repeat(64)}'`));
  const refused = await onMachine(`HOME=${dir}/other sh ${tampered} --user --token ccw_whatever`);
  expect(refused.exitCode).toBe(1);
  expect(refused.all).toMatch(/sha256 is [0-9a-f]{64}, not 0{64}: it was cut or changed on the way\. Nothing was installed\./);
  await expect(fs.access(`${dir}/other/.local/bin/cactus-agent`)).rejects.toThrow();

  const userToken = await onMachine(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --user --token cct_abc`);
  expect(userToken.exitCode).toBe(1);
  expect(userToken.all).toContain('"cct_abc" is not a worker token: they start with ccw_ (a user\'s API token starts with cct_).');
  const none = await onMachine(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --user`);
  expect(none.all).toMatch(/no worker token: pass --token ccw_…/);
  const help = await onMachine(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --help`);
  expect(help.exitCode).toBe(0);
  expect(help.all).toContain(`curl -fsSL ${server.url}/agent/install.sh | sudo sh -s -- --token ccw_…   # as root: a systemd service`);
});

test("the served unit is the repository's, hardening and all, starting the installed bundle", async () => {
  const served = await (await fetch(`${server.url}/agent/cactus-agent.service`)).text();
  const repo = await fs.readFile(path.join(REPO, "agent/cactus-agent.service"), "utf8");
  const settings = (unit: string) => unit.split("\n").filter((line) => /^[A-Z]\w+=/.test(line));
  const differs = settings(served).filter((line) => !settings(repo).includes(line));
  expect(differs).toEqual(["EnvironmentFile=-/etc/cactus/agent.env", "ExecStart=/usr/bin/env node /usr/local/lib/cactus-agent/cactus-agent.mjs run"]);
  expect(settings(repo).length).toBe(settings(served).length);
  // Verified as a file of its own name (systemd reads the unit's type from it).
  const file = path.join(dir, "cactus-agent.service");
  await fs.writeFile(file, served);
  const verify = await execa("systemd-analyze", ["verify", file], { reject: false, all: true });
  expect({ exitCode: verify.exitCode, output: verify.all }).toEqual({ exitCode: 0, output: "" });
});
