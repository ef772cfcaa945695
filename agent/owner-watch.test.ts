import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { OwnerWatch, procProbe } from "./owner-watch";

// What the agent reads of its machine in /proc, with real processes: its own (any
// descendant) and the owner's, and a Blender open on the desktop (no -b).

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function start(file: string, args: string[]): ChildProcess {
  const child = spawn(file, args, { stdio: ["pipe", "ignore", "ignore"] });
  children.push(child);
  return child;
}
/** Spins until it has used 0.4 s of CPU, however long a loaded machine takes to give it that, then waits. */
const busy = () => start(process.execPath, ["-e", "while (process.cpuUsage().user < 400_000) {} setTimeout(() => undefined, 60_000)"]);
const ticksOf = async (pid: number) => {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reading /proc", () => {
  test("a descendant's CPU is the agent's own; another process's is not", async () => {
    // A stand-in agent (a sleeping process): the busy loop below is not its descendant.
    const standIn = start("sleep", ["30"]);
    const asAgent = procProbe(process.pid);
    const asStandIn = procProbe(standIn.pid!);
    const [before, standInBefore] = [asAgent(), asStandIn()];
    const spinning = busy();
    let busyTicks = 0;
    for (const deadline = Date.now() + 60_000; (busyTicks = await ticksOf(spinning.pid!)) < 40; await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`The busy process used only ${busyTicks} ticks of CPU in a minute.`);
    }
    const [after, standInAfter] = [asAgent(), asStandIn()];
    expect(busyTicks).toBeGreaterThan(30);
    expect(after.own - before.own).toBeGreaterThanOrEqual(busyTicks);
    expect(standInAfter.own - standInBefore.own).toBeLessThan(5);
    expect(after.machineBusy - before.machineBusy).toBeGreaterThanOrEqual(busyTicks);
    expect(after.machineTotal).toBeGreaterThan(after.machineBusy);
  });

  test("a Blender without -b that is not the agent's is someone working in it", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-owner-"));
    try {
      // cat, named blender: it waits on its stdin, with whatever arguments it was given.
      const blender = path.join(dir, "blender");
      await fs.copyFile("/bin/cat", blender);
      await fs.chmod(blender, 0o755);
      const standIn = start("sleep", ["30"]);
      start(blender, ["-b"]);
      await sleep(200);
      expect(procProbe(standIn.pid!)().interactiveBlender).toBeNull();
      start(blender, ["-"]);
      await sleep(200);
      expect(procProbe(standIn.pid!)().interactiveBlender).toBe("blender -");
      // The agent's own Blenders never count.
      expect(procProbe(process.pid)().interactiveBlender).toBeNull();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the watch", () => {
  test("turns others' CPU into a share of the machine, and tells of each change", () => {
    let reading = { machineBusy: 0, machineTotal: 0, own: 0, interactiveBlender: null as string | null };
    let now = 0;
    const changes: unknown[] = [];
    const watch = new OwnerWatch({
      rules: { busyCpu: 0.5, busyAfterMs: 10_000, idleAfterMs: 20_000 },
      probe: () => reading,
      now: () => now,
    });
    watch.listen((verdict) => changes.push(verdict));
    const step = (busy: number, own: number) => {
      now += 5000;
      reading = { ...reading, machineBusy: reading.machineBusy + busy, machineTotal: reading.machineTotal + 1000, own: reading.own + own };
      watch.sample();
    };
    watch.sample();
    // The machine at 90 %, all of it the agent's Blender: not busy.
    for (let index = 0; index < 5; index += 1) step(900, 900);
    expect(watch.verdict()).toEqual({ busy: false });
    // 70 % of it someone else's.
    for (let index = 0; index < 3; index += 1) step(900, 200);
    expect(watch.verdict()).toEqual({ busy: true, reason: "other programs keep 70 % of the CPU busy" });
    for (let index = 0; index < 6; index += 1) step(100, 0);
    expect(watch.verdict()).toEqual({ busy: false });
    expect(changes).toEqual([{ busy: true, reason: "other programs keep 70 % of the CPU busy" }, { busy: false }]);
  });
});
