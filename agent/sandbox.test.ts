import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NO_SANDBOX, SandboxUnavailable, blenderEnv, bwrapArgs, detectSandbox, findExecutable, sandboxCommand, sandboxedRunner } from "./sandbox";

// The sandbox's command lines and choices, without Blender: what bwrap is told, what
// environment Blender gets, and what the agent does where bwrap is missing or refuses.
// agent/sandbox.real.test.ts tries the escapes for real.

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sandbox-unit-"));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A program named `name` in its own folder, running `script` (sh). */
async function program(name: string, script: string): Promise<string> {
  const folder = await fs.mkdtemp(path.join(dir, "bin-"));
  const file = path.join(folder, name);
  await fs.writeFile(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return folder;
}

const pairs = (args: string[], flag: string) => args.flatMap((arg, index) => (arg === flag ? [[args[index + 1], args[index + 2]]] : []));

describe("bwrapArgs", () => {
  const args = bwrapArgs({
    blender: "/usr/bin/blender",
    argv: ["-b", "/cache/archives/abc/scene.blend", "-f", "1"],
    files: { readOnly: ["/cache/archives/abc"], writable: ["/cache/tasks/cactus-task-1"] },
    tmpDir: "/cache/tasks/blender-x",
    disableUserns: true,
  });

  test("new namespaces for users, PIDs, network and IPC; no capabilities; no nested user namespaces; dies with the agent", () => {
    for (const flag of ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session", "--disable-userns"]) {
      expect(args).toContain(flag);
    }
    expect(args.slice(args.indexOf("--cap-drop"), args.indexOf("--cap-drop") + 2)).toEqual(["--cap-drop", "ALL"]);
  });

  test("shows /usr, a few files of /etc, the archive read-only, the output and a private /tmp writable, nothing of the host's root", () => {
    const readOnly = pairs(args, "--ro-bind").map(([from]) => from);
    expect(readOnly).toEqual(expect.arrayContaining(["/usr", "/cache/archives/abc"]));
    expect(readOnly.filter((from) => from === "/" || from === "/etc" || from === "/home" || from.startsWith("/var"))).toEqual([]);
    expect(pairs(args, "--ro-bind-try").map(([from]) => from)).toEqual([
      "/etc/ld.so.cache",
      "/etc/ld.so.conf",
      "/etc/ld.so.conf.d",
      "/etc/alternatives",
      "/etc/fonts",
    ]);
    expect(pairs(args, "--bind")).toEqual([
      ["/cache/tasks/blender-x", "/tmp"],
      ["/cache/tasks/cactus-task-1", "/cache/tasks/cactus-task-1"],
    ]);
    expect(pairs(args, "--remount-ro").map(([from]) => from)).toEqual(["/dev", "/"]);
    // Read-only binds before writable ones: an output folder inside the archive's stays writable.
    expect(args.indexOf("/cache/archives/abc")).toBeLessThan(args.indexOf("/cache/tasks/cactus-task-1"));
  });

  test("Blender and its argv come last, after --", () => {
    expect(args.slice(args.indexOf("--"))).toEqual(["--", "/usr/bin/blender", "-b", "/cache/archives/abc/scene.blend", "-f", "1"]);
  });

  test("a Blender outside /usr has its own folder shown read-only; no --disable-userns where bwrap is older", async () => {
    const folder = await program("blender", "exit 0");
    const official = bwrapArgs({ blender: path.join(folder, "blender"), argv: [], tmpDir: "/t", disableUserns: false });
    expect(pairs(official, "--ro-bind")).toContainEqual([folder, folder]);
    expect(official).not.toContain("--disable-userns");
  });
});

describe("Blender's environment", () => {
  test("is made from nothing: no token, no HOME of the agent, no DISPLAY", () => {
    expect(blenderEnv("/tmp")).toEqual({ PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", TMPDIR: "/tmp", LANG: "C.UTF-8" });
  });

  test("without the sandbox, Blender is found on the agent's PATH and gets the same scrubbed environment, in its temp dir", async () => {
    const folder = await program("blender", "exit 0");
    const command = sandboxCommand(NO_SANDBOX, { blender: "blender", argv: ["-b"], tmpDir: "/t/blender-1", searchPath: `/nowhere:${folder}` });
    expect(command).toEqual({ file: path.join(folder, "blender"), args: ["-b"], env: blenderEnv("/t/blender-1"), cwd: "/t/blender-1" });
  });

  test("a run sees only that environment, even with the token in the agent's, and its temp dir is gone when it ends", async () => {
    process.env.CACTUS_WORKER_TOKEN = "ccw_in-the-agents-environment";
    try {
      const tmpRoot = path.join(dir, "work");
      const child = sandboxedRunner(NO_SANDBOX, { tmpRoot })("/bin/sh", ["-c", "env; pwd; touch made-here"]);
      const lines: string[] = [];
      for await (const line of child.lines) lines.push(line);
      expect(await child.exited).toMatchObject({ exitCode: 0, signal: null });
      const home = lines.find((line) => line.startsWith("HOME="))!.slice(5);
      expect(path.dirname(home)).toBe(tmpRoot);
      expect(lines.filter((line) => line.includes("="))).toEqual(
        expect.arrayContaining([`HOME=${home}`, `TMPDIR=${home}`, "LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin"]),
      );
      expect(lines.join("\n")).not.toContain("ccw_");
      expect(lines).toContain(home);
      expect(await fs.readdir(tmpRoot)).toEqual([]);
    } finally {
      delete process.env.CACTUS_WORKER_TOKEN;
    }
  });
});

describe("detectSandbox", () => {
  test("off is off, without looking for bwrap", async () => {
    expect(await detectSandbox("off", { searchPath: "/nowhere" })).toBe(NO_SANDBOX);
  });

  test("no bwrap: auto runs Blender without a sandbox and says how to get one; bwrap refuses to start", async () => {
    expect(await detectSandbox("auto", { searchPath: "/nowhere", tmpRoot: dir })).toEqual({
      mode: "off",
      reason: "bwrap is not installed (Debian: sudo apt-get install bubblewrap)",
    });
    await expect(detectSandbox("bwrap", { searchPath: "/nowhere", tmpRoot: dir })).rejects.toThrow(SandboxUnavailable);
    await expect(detectSandbox("bwrap", { searchPath: "/nowhere", tmpRoot: dir })).rejects.toThrow(
      /bwrap is not installed .*start the agent with --sandbox off \(CACTUS_SANDBOX=off\)/,
    );
  });

  test("a bwrap that cannot make its namespaces (no user namespaces here): off, with bwrap's own words", async () => {
    const folder = await program(
      "bwrap",
      'case "$1" in --help) echo "usage: bwrap [OPTIONS...] [--] COMMAND"; exit 0;; esac\n' +
        'echo "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2\nexit 1',
    );
    expect(await detectSandbox("auto", { searchPath: folder, tmpRoot: dir })).toEqual({
      mode: "off",
      reason: "bwrap cannot make a sandbox here (bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.)",
    });
    await expect(detectSandbox("bwrap", { searchPath: folder, tmpRoot: dir })).rejects.toThrow(/cannot make a sandbox here/);
  });

  test("a bwrap that works: its path, and whether it knows --disable-userns", async () => {
    const folder = await program("bwrap", 'case "$1" in --help) echo "    --unshare-user"; exit 0;; esac\nexit 0');
    expect(await detectSandbox("auto", { searchPath: folder, tmpRoot: dir })).toMatchObject({
      mode: "bwrap",
      bwrap: { path: path.join(folder, "bwrap"), disableUserns: false },
    });
  });
});

test("findExecutable: a path as given, a name from PATH, null when there is none", async () => {
  const folder = await program("blender", "exit 0");
  expect(findExecutable(path.join(folder, "blender"))).toBe(path.join(folder, "blender"));
  expect(findExecutable("blender", `/nowhere:${folder}`)).toBe(path.join(folder, "blender"));
  expect(findExecutable("blender", "/nowhere")).toBeNull();
});
