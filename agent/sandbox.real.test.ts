import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BLENDER } from "../tests/helpers/scenes";
import type { BlenderRunner } from "./blender";
import { renderFrames } from "./blender";
import { NO_SANDBOX, type Sandbox, detectSandbox, sandboxedRunner } from "./sandbox";
import { type Attempts, probeBlender } from "./testing/blender-probe";
import {
  BLUE,
  GREEN,
  MAGENTA,
  makeTextureScene,
  processesWith,
  sameColour,
  solidPng,
  spawnProbeAgent,
  stripColours,
} from "./testing/sandbox-fixtures";

// Escapes tried from inside Blender, for real: Debian's Blender 3.4.1 in bubblewrap
// (scripts/install-test-deps.sh installs both; where bwrap cannot make its sandbox,
// beforeAll fails and says why). Each escape runs once in the sandbox and once, as the
// control, without it: the control shows the attempt works where nothing stops it, so a
// pass means the sandbox stopped it.

let dir: string;
let tmpRoot: string;
let sandbox: Sandbox;
let sandboxed: BlenderRunner;
let unconfined: BlenderRunner;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sandbox-"));
  tmpRoot = path.join(dir, "work");
  sandbox = await detectSandbox("bwrap", { tmpRoot });
  sandboxed = sandboxedRunner(sandbox, { tmpRoot });
  unconfined = sandboxedRunner(NO_SANDBOX, { tmpRoot });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const probe = (runner: BlenderRunner, code: string, params: unknown, files = {}) =>
  probeBlender({ blender: BLENDER, runner, code, params, files }).then(({ attempts }) => attempts);

const failed = (attempts: Attempts, name: string) => {
  expect(attempts[name], name).toMatchObject({ ok: false });
  return attempts[name].error ?? "";
};
const worked = (attempts: Attempts, name: string) => {
  expect(attempts[name], `${name}: ${attempts[name]?.error}`).toMatchObject({ ok: true });
  return attempts[name].value;
};

describe("Blender in its bwrap sandbox", () => {
  test("bwrap works here, with --disable-userns", () => {
    expect(sandbox).toMatchObject({ mode: "bwrap", bwrap: { disableUserns: true } });
  });

  test("an image texture outside the archive renders as missing (magenta), by absolute path or by ../; one inside renders", async () => {
    const secret = path.join(dir, "secret.png");
    await fs.writeFile(secret, solidPng(BLUE));
    const archive = path.join(dir, "texture-archive");
    await fs.mkdir(path.join(archive, "textures"), { recursive: true });
    await fs.writeFile(path.join(archive, "textures", "inside.png"), solidPng(GREEN));
    const blendFile = path.join(archive, "scene.blend");
    await makeTextureScene(blendFile, [secret, "//../secret.png", "//textures/inside.png"]);

    const render = async (runner: BlenderRunner, name: string) => {
      const job = { blendFile, archiveDir: archive, outputDir: path.join(dir, name), format: "PNG" as const, frameStart: 1, frameEnd: 1, threads: 2 };
      const result = await renderFrames({ job, blender: BLENDER, runner });
      expect(result.errors).toEqual([]);
      return stripColours(path.join(job.outputDir, "frame_00001.png"), 3);
    };
    const [absolute, relative, inside] = await render(sandboxed, "in-sandbox");
    expect({ absolute, relative, inside }).toEqual({
      absolute: expect.toSatisfy((colour) => sameColour(colour, MAGENTA)),
      relative: expect.toSatisfy((colour) => sameColour(colour, MAGENTA)),
      inside: expect.toSatisfy((colour) => sameColour(colour, GREEN)),
    });
    // The control, and --sandbox off still renders: the secret is read.
    const control = await render(unconfined, "unconfined");
    expect(control.map((colour, index) => sameColour(colour, [BLUE, BLUE, GREEN][index]))).toEqual([true, true, true]);
  });

  test("it cannot open a connection to the server: not on loopback, not at the machine's addresses, not by an abstract socket", async () => {
    const server = http.createServer((_request, response) => response.end("farm"));
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    const abstract = `cactus-probe-${randomUUID()}`;
    const unix = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => unix.listen({ path: `\0${abstract}` }, resolve));
    let connections = 0;
    server.on("connection", () => (connections += 1));
    const hosts = Object.values(os.networkInterfaces())
      .flat()
      .filter((address) => address && address.family === "IPv4" && !address.internal)
      .map((address) => address!.address);
    const code = `
import socket
def tcp(host):
    socket.create_connection((host, params["port"]), timeout=3).close()
    return "connected"
def unix():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    # Node pads an abstract name with NULs to the whole sun_path (108 bytes).
    s.connect(("\\0" + params["abstract"]).encode().ljust(108, b"\\0"))
    s.close()
    return "connected"
attempt("loopback", lambda: tcp("127.0.0.1"))
for host in params["hosts"]:
    attempt("host " + host, lambda host=host: tcp(host))
attempt("abstract socket", unix)
attempt("interfaces", lambda: sorted(name for _, name in socket.if_nameindex()))
`;
    const params = { port: (server.address() as AddressInfo).port, abstract, hosts };
    try {
      const inside = await probe(sandboxed, code, params);
      expect(failed(inside, "loopback")).toMatch(/ConnectionRefusedError/);
      for (const host of hosts) expect(failed(inside, `host ${host}`)).toMatch(/Network is unreachable|OSError/);
      expect(failed(inside, "abstract socket")).toMatch(/ConnectionRefusedError/);
      expect(worked(inside, "interfaces")).toEqual(["lo"]);
      expect(connections).toBe(0);

      const control = await probe(unconfined, code, params);
      for (const name of ["loopback", ...hosts.map((host) => `host ${host}`), "abstract socket"]) expect(worked(control, name)).toBe("connected");
      expect(connections).toBe(1 + hosts.length);
    } finally {
      server.close();
      unix.close();
    }
  });

  test("the worker token is in no environment Blender can read, and the agent's process is out of its sight", async () => {
    const token = `ccw_sandbox-${randomUUID()}`;
    const home = path.join(dir, "agent-home");
    await fs.mkdir(path.join(home, ".config", "cactus"), { recursive: true });
    await fs.writeFile(path.join(home, ".config", "cactus", "config.json"), JSON.stringify({ token }));
    const code = `
def environ(pid):
    return open("/proc/%s/environ" % pid, "rb").read().decode("utf-8", "replace")
def holders():
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if params["token"] in environ(pid): found.append(int(pid))
            except OSError: pass
    return found
attempt("own environment", lambda: sorted(line.split("=")[0] for line in environ("self").split("\\0") if line))
attempt("token in own environment", lambda: params["token"] in environ("self"))
attempt("processes holding the token", holders)
attempt("agent's environment", lambda: environ(params["agentPid"]))
attempt("signal to the agent", lambda: os.kill(params["agentPid"], 0))
attempt("agent's CLI config", lambda: open(params["home"] + "/.config/cactus/config.json").read())
attempt("/etc/passwd", lambda: open("/etc/passwd").read()[:20])
attempt("processes", lambda: sorted(int(pid) for pid in os.listdir("/proc") if pid.isdigit()))
`;
    // The agent as systemd starts it: the token and HOME in its environment.
    const run = async (mode: "bwrap" | "off") => {
      const child = spawnProbeAgent({ sandbox: mode, code, params: { token, home }, tmpRoot }, { CACTUS_WORKER_TOKEN: token, HOME: home });
      const done = await child;
      expect(done.exitCode, done.stderr).toBe(0);
      return { ...(JSON.parse(done.stdout) as { sandbox: string; attempts: Attempts }), agentPid: child.pid! };
    };
    const inside = await run("bwrap");
    expect(inside.sandbox).toBe("bwrap");
    // bwrap adds PWD, for its --chdir.
    expect(worked(inside.attempts, "own environment")).toEqual(["HOME", "LANG", "PATH", "PWD", "TMPDIR"]);
    expect(worked(inside.attempts, "token in own environment")).toBe(false);
    expect(worked(inside.attempts, "processes holding the token")).toEqual([]);
    expect(failed(inside.attempts, "agent's environment")).toMatch(/FileNotFoundError/);
    expect(failed(inside.attempts, "signal to the agent")).toMatch(/ProcessLookupError/);
    expect(failed(inside.attempts, "agent's CLI config")).toMatch(/FileNotFoundError/);
    expect(failed(inside.attempts, "/etc/passwd")).toMatch(/FileNotFoundError/);
    // Its own PID namespace: bwrap's reaper, and Blender.
    expect((worked(inside.attempts, "processes") as number[]).length).toBeLessThanOrEqual(3);

    const control = await run("off");
    // Blender's own environment is scrubbed without the sandbox too…
    expect(worked(control.attempts, "own environment")).toEqual(["HOME", "LANG", "PATH", "TMPDIR"]);
    expect(worked(control.attempts, "token in own environment")).toBe(false);
    // …but the agent's process, its files and the system's are in plain sight (decision 017).
    expect(worked(control.attempts, "processes holding the token")).toContain(control.agentPid);
    expect(worked(control.attempts, "agent's environment")).toContain(token);
    worked(control.attempts, "signal to the agent");
    expect(worked(control.attempts, "agent's CLI config")).toContain(token);
    worked(control.attempts, "/etc/passwd");
  });

  test("the file system is read-only but for its output and its own /tmp, and the cache shows only the task's archive", async () => {
    const cache = path.join(dir, "cache");
    const archive = path.join(cache, "archives", "a".repeat(64));
    const other = path.join(cache, "archives", "b".repeat(64));
    const output = path.join(cache, "tasks", "cactus-task-1");
    for (const folder of [archive, other]) {
      await fs.mkdir(folder, { recursive: true });
      await fs.writeFile(path.join(folder, "scene.blend"), "someone's scene");
    }
    const code = `
import ctypes
def write(file):
    open(file, "w").write("probe")
    return file
def status(field):
    return [line.split(":")[1].strip() for line in open("/proc/self/status") if line.startswith(field + ":")][0]
attempt("read the other archive", lambda: open(params["other"] + "/scene.blend").read())
attempt("list the cache", lambda: sorted(os.listdir(params["archives"])))
attempt("write into the archive", lambda: write(params["archive"] + "/planted.py"))
attempt("write the output", lambda: write(params["output"] + "/frame_00001.png"))
attempt("write /tmp", lambda: write("/tmp/" + params["tmpName"]))
for file in params["systemWrites"]:
    attempt("write " + file, lambda file=file: write(file))
attempt("/dev", lambda: sorted(os.listdir("/dev")))
attempt("/sys", lambda: os.listdir("/sys"))
attempt("/home", lambda: os.listdir("/home"))
attempt("no new privileges", lambda: status("NoNewPrivs"))
attempt("capabilities", lambda: status("CapEff"))
libc = ctypes.CDLL(None, use_errno=True)
def unshare_user():
    # In a child: a process with threads (Blender) may not unshare its user namespace.
    child = os.fork()
    if child == 0:
        os._exit(0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno())
    code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    if code != 0: raise OSError(code, os.strerror(code))
    return "unshared"
attempt("a user namespace of its own", unshare_user)
`;
    const tmpName = `cactus-probe-${randomUUID()}`;
    const params = { other, archives: path.join(cache, "archives"), archive, output, tmpName };
    const files = { readOnly: [archive], writable: [output] };
    const inside = await probe(sandboxed, code, { ...params, systemWrites: ["/planted", "/usr/planted", "/etc/planted"] }, files);
    expect(failed(inside, "read the other archive")).toMatch(/FileNotFoundError/);
    expect(worked(inside, "list the cache")).toEqual(["a".repeat(64)]);
    expect(failed(inside, "write into the archive")).toMatch(/Read-only file system/);
    worked(inside, "write the output");
    worked(inside, "write /tmp");
    expect(existsSync(path.join("/tmp", tmpName))).toBe(false);
    for (const file of ["/planted", "/usr/planted", "/etc/planted"]) expect(failed(inside, `write ${file}`)).toMatch(/Read-only file system/);
    const devices = worked(inside, "/dev") as string[];
    expect(devices.filter((device) => !["core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"].includes(device))).toEqual([]);
    expect(failed(inside, "/sys")).toMatch(/FileNotFoundError/);
    expect(failed(inside, "/home")).toMatch(/FileNotFoundError/);
    expect(worked(inside, "no new privileges")).toBe("1");
    expect(worked(inside, "capabilities")).toBe("0000000000000000");
    expect(failed(inside, "a user namespace of its own")).toMatch(/Operation not permitted|No space left/);
    expect(await fs.readdir(tmpRoot)).toEqual([]);

    // Writes outside /tmp are left out of the control: as root they would land in the system.
    const control = await probe(unconfined, code, { ...params, systemWrites: [] }, files);
    expect(worked(control, "read the other archive")).toBe("someone's scene");
    expect(worked(control, "list the cache")).toEqual(["a".repeat(64), "b".repeat(64)]);
    worked(control, "write into the archive");
    worked(control, "/sys");
    worked(control, "a user namespace of its own");
    expect(existsSync(path.join("/tmp", tmpName))).toBe(true);
    await fs.rm(path.join("/tmp", tmpName));
  });

  test("Blender dies with the agent: SIGKILL to the agent's process takes the sandbox down (without it, Blender lives on)", async () => {
    const output = path.join(dir, "heartbeat");
    const code = `
import time
attempt("started", lambda: open(params["output"] + "/started", "w").write("yes"))
for _ in range(600):
    time.sleep(0.1)
`;
    const run = async (mode: "bwrap" | "off") => {
      const marker = `cactus-heartbeat-${randomUUID()}`;
      const child = spawnProbeAgent({ sandbox: mode, code: `# ${marker}\n${code}`, params: { output }, files: { writable: [output] }, tmpRoot }, {});
      const started = path.join(output, "started");
      while (!existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 50));
      await fs.rm(started);
      expect(processesWith(marker).length).toBeGreaterThan(0);
      child.kill("SIGKILL");
      await child;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return processesWith(marker);
    };
    expect(await run("bwrap")).toEqual([]);
    const survivors = await run("off");
    expect(survivors.length).toBeGreaterThan(0);
    for (const pid of survivors) process.kill(pid, "SIGKILL");
  });

  test("a program that crashes inside is reported by its signal, as outside (bwrap exits 128 + N)", async () => {
    const crashed = await sandboxed("/bin/sh", ["-c", "kill -SEGV $$"]).exited;
    expect(crashed).toMatchObject({ exitCode: null, signal: "SIGSEGV" });
    expect(await sandboxed("/bin/sh", ["-c", "exit 3"]).exited).toMatchObject({ exitCode: 3, signal: null });
  });
});
