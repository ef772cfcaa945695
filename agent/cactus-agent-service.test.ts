import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BLENDER, makeScene } from "../tests/helpers/scenes";
import { findExecutable } from "./sandbox";
import { type FakeFarm, WORKER_TOKEN, renderTask, startFakeFarm } from "./testing/fake-farm";

// agent/cactus-agent.service, judged by systemd's own tools (Debian's systemd 252, which
// scripts/install-test-deps.sh installs): it verifies, it scores 3.0 or less in
// `systemd-analyze security`, and booted for real by systemd as the PID 1 of a throwaway
// container (agent/testing/systemd-container.sh), the agent under it renders a task in its
// bwrap sandbox — while the same unit with ProtectKernelTunables= on, the control, cannot
// make the sandbox at all.

const ROOT = path.resolve(import.meta.dirname, "..");
const UNIT = path.join(ROOT, "agent/cactus-agent.service");
const CONTAINER = path.join(ROOT, "agent/testing/systemd-container.sh");
const unitText = readFileSync(UNIT, "utf8");
const settings = (key: string) => [...unitText.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((match) => match[1]);

function systemdAnalyze(): string {
  const found = findExecutable("systemd-analyze");
  if (!found) throw new Error("systemd-analyze is not installed (Debian: apt-get install systemd; scripts/install-test-deps.sh does it).");
  return found;
}

describe("agent/cactus-agent.service", () => {
  test("passes systemd-analyze verify", async () => {
    const verify = await execa(systemdAnalyze(), ["verify", UNIT], { reject: false, all: true });
    expect({ exitCode: verify.exitCode, output: verify.all }).toEqual({ exitCode: 0, output: "" });
  });

  test("scores 3.0 or less in systemd-analyze security (it was 7.6 before the sandbox)", async () => {
    const security = await execa(systemdAnalyze(), ["security", "--offline=yes", UNIT], { reject: false, all: true });
    const score = /Overall exposure level for cactus-agent\.service: (\d+\.\d)/.exec(security.all ?? "");
    expect(score, security.all).not.toBeNull();
    expect(Number(score![1]), security.all).toBeLessThanOrEqual(3.0);
  });

  test("leaves bwrap what it needs: its namespaces, mount(2), and a /proc nothing covers", () => {
    expect(settings("RestrictNamespaces")[0].split(/\s+/)).toEqual(expect.arrayContaining(["user", "mnt", "pid", "net"]));
    expect(settings("SystemCallFilter").join(" ").split(/\s+/)).toContain("@mount");
    expect(settings("RestrictAddressFamilies")[0].split(/\s+/)).toContain("AF_NETLINK");
    for (const coversProc of ["ProtectKernelTunables", "ProtectKernelLogs", "ProtectProc", "ProcSubset"]) {
      expect(settings(coversProc), coversProc).toEqual([]);
    }
  });
});

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)("agent/cactus-agent.service booted by systemd (a container's PID 1; root only)", () => {
  let dir: string;
  let farm: FakeFarm;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-unit-"));
    await fs.chmod(dir, 0o755);
    farm = await startFakeFarm();
  });
  afterAll(async () => {
    await farm.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("the agent under it renders a task in its bwrap sandbox; with ProtectKernelTunables= bwrap cannot start", { timeout: 240_000 }, async () => {
    const scene = await fs.readFile(await makeScene());
    const task = renderTask(scene);
    farm.archives.set(task.archive.hash, scene);
    farm.queue.push(task);
    const user = "cactus-agent";
    const uid = freeUid();
    await fs.writeFile(
      path.join(dir, "agent.env"),
      `CACTUS_SERVER=${farm.url}\nCACTUS_WORKER_TOKEN=${WORKER_TOKEN}\nCACTUS_THREADS=1\nCACTUS_BUSY_CPU=off\nCACTUS_BLENDER=${findExecutable(BLENDER) ?? BLENDER}\n`,
    );
    await fs.writeFile(path.join(dir, "cactus-agent.service"), checkUnit(dir, "cactus-agent", ["doctor", "run --once"]));
    await fs.writeFile(
      path.join(dir, "cactus-agent-control.service"),
      checkUnit(dir, "cactus-agent-control", ["run --once"]).replace("[Service]", "[Service]\nProtectKernelTunables=yes\nEnvironment=CACTUS_SANDBOX=bwrap"),
    );
    await fs.writeFile(
      path.join(dir, "cactus-check.target"),
      "[Unit]\nDefaultDependencies=no\nWants=cactus-agent.service cactus-agent-control.service\n",
    );

    const container = execa("bash", [CONTAINER, dir, user, String(uid)], { reject: false, all: true });
    let outputs: { agent: string; control: string };
    try {
      outputs = await untilDone(dir, container, 200_000);
    } finally {
      await stopContainer(container);
    }
    expect(outputs.agent).toMatch(/✓ Sandbox: bwrap \(.*\): Blender runs with no network/);
    expect(outputs.agent).toMatch(/✓ Blender renders: a 32×24 test frame/);
    expect(outputs.agent).toContain("All checks passed.");
    expect(outputs.agent).toMatch(/sandbox bwrap, 1 threads, 0 cached archives \(0 bytes\) in \/var\/cache\/cactus-agent/);
    expect(outputs.agent).toContain(`Task ${task.id}: frames 1-1 done`);
    expect(outputs.agent).toContain("cactus-check: done success 0");
    expect(farm.to("PUT", /\/frames\//)).toHaveLength(1);
    expect(farm.to("POST", /\/hello$/).at(-1)?.body).toMatchObject({ capabilities: { sandbox: "bwrap" } });

    // Here bwrap stumbles first on /proc/sys made read-only (its --disable-userns writes the
    // sandbox's own limit there); without that, on mounting the sandbox's /proc.
    expect(outputs.control).toMatch(/Blender cannot run in a sandbox here: bwrap cannot make a sandbox here \(bwrap: .*(\/proc\/sys|\/proc)/);
    expect(outputs.control).toMatch(/cactus-check: done exit-code 1/);
  });
});

/** The shipped unit, its sandboxing untouched, made a oneshot that runs `commands` and says how it ended. */
function checkUnit(dir: string, name: string, commands: string[]): string {
  const agent = `/usr/bin/env node ${path.join(ROOT, "agent/bin/cactus-agent.js")}`;
  return unitText
    .replace(/^\[Unit\]$/m, "[Unit]\nDefaultDependencies=no")
    .replace(/^(Wants|After)=network-online\.target$/gm, "")
    .replace(/^EnvironmentFile=.*$/m, `EnvironmentFile=${path.join(dir, "agent.env")}`)
    .replace(/^Type=simple$/m, `Type=oneshot\nStandardOutput=append:${path.join(dir, `${name}.out`)}\nStandardError=inherit`)
    .replace(/^ExecStart=.*$/m, [...commands.map((command) => `ExecStart=${agent} ${command}`), "ExecStopPost=/bin/echo cactus-check: done $SERVICE_RESULT $EXIT_STATUS"].join("\n"))
    .replace(/^Restart=on-failure$/m, "Restart=no")
    .replace(/^\[Install\][^]*$/m, "");
}

function freeUid(): number {
  const taken = new Set(
    ["/etc/passwd", "/etc/group"].flatMap((file) => readFileSync(file, "utf8").split("\n").map((line) => Number(line.split(":")[2]))),
  );
  let uid = 990;
  while (taken.has(uid)) uid -= 1;
  return uid;
}

async function untilDone(dir: string, container: ReturnType<typeof execa>, timeoutMs: number) {
  const read = (name: string) => fs.readFile(path.join(dir, `${name}.out`), "utf8").catch(() => "");
  const started = Date.now();
  let exited = false;
  void container.finally(() => (exited = true));
  for (;;) {
    const outputs = { agent: await read("cactus-agent"), control: await read("cactus-agent-control") };
    if (outputs.agent.includes("cactus-check: done") && outputs.control.includes("cactus-check: done")) return outputs;
    if (exited || Date.now() - started > timeoutMs) {
      throw new Error(`The units did not finish (container ${exited ? "exited" : "still running"}):\n${JSON.stringify(outputs, null, 2)}\n${(await container).all}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Kills the container's PID 1 (the whole PID namespace goes with it) and removes its cgroups. */
async function stopContainer(container: ReturnType<typeof execa>) {
  const pid = container.pid!;
  const children = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  for (const child of children.trim().split(/\s+/).filter(Boolean)) process.kill(Number(child), "SIGKILL");
  container.kill("SIGKILL");
  await container;
  const name = `cactus-unit-test-${pid}`;
  // A cgroup is busy until the kernel has reaped its last process: try for a few seconds.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const found = await execa("find", ["/sys/fs/cgroup", "-maxdepth", "6", "-type", "d", "-name", name], { reject: false });
    const cgroups = found.stdout.split("\n").filter(Boolean);
    if (cgroups.length === 0) return;
    for (const cgroup of cgroups) await execa("find", [cgroup, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"], { reject: false });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
