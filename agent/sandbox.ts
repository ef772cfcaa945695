import { accessSync, constants, lstatSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { SandboxMode } from "../domain/sandbox";
import type { BlenderProcess, BlenderRunner } from "./blender";

// Every Blender the agent starts goes through here (decision 017). Blender opens other
// people's files: with its embedded scripts off it still reads any path a .blend names
// (an image texture at /home/…, a library at /etc/…) and runs with the agent's rights.
// So it gets a scrubbed environment (never the worker token, never the agent's HOME) and
// a private temp dir that goes when it exits, and where bubblewrap works it runs in a
// sandbox: no network, its own PID namespace, a read-only file system of Blender's own
// files and the system's libraries, the task's archive read-only, its output writable,
// dying with the agent. Anything else that spawns Blender (benchmark, a warm Blender)
// builds its command with sandboxCommand() or runs it through sandboxedRunner().

export type { SandboxMode };

export const SANDBOX_SETTINGS = ["auto", "bwrap", "off"] as const;
/** auto: bwrap where it works, else off with a warning; bwrap: refuse to start without it. */
export type SandboxSetting = (typeof SANDBOX_SETTINGS)[number];

/** The files a Blender run needs besides Blender and the system: nothing else is in its sight. */
export interface BlenderFiles {
  /** Shown read-only, at the same paths: the task's archive (its .blend and its textures). */
  readOnly?: readonly string[];
  /** Shown writable, at the same paths: where it writes frames. Made when missing. */
  writable?: readonly string[];
}

export interface Sandbox {
  mode: SandboxMode;
  /** Why this mode, in words for `cactus-agent doctor` and the agent's start line. */
  reason: string;
  /** The bwrap that works here; set when mode is bwrap. */
  bwrap?: { path: string; disableUserns: boolean };
}

export const NO_SANDBOX: Sandbox = { mode: "off", reason: "turned off (--sandbox off)" };

export interface SandboxCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface CommandOptions {
  /** Blender's path or a name on the agent's PATH. */
  blender: string;
  argv: readonly string[];
  files?: BlenderFiles;
  /** The run's private temp dir on the agent's side (HOME and TMPDIR; /tmp inside bwrap). */
  tmpDir: string;
  /** The agent's PATH, to find Blender by name. */
  searchPath?: string;
}

const SAFE_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * Blender's whole environment. Nothing is inherited: not the token (CACTUS_WORKER_TOKEN),
 * not HOME (its ~/.config, ~/.ssh), not DISPLAY (Eevee falls back to surfaceless EGL).
 */
export function blenderEnv(tmpDir: string): Record<string, string> {
  return { PATH: SAFE_PATH, HOME: tmpDir, TMPDIR: tmpDir, LANG: "C.UTF-8" };
}

/** The command that runs Blender with this argv in this sandbox. */
export function sandboxCommand(sandbox: Sandbox, options: CommandOptions): SandboxCommand {
  const blender = findExecutable(options.blender, options.searchPath) ?? options.blender;
  if (sandbox.mode === "off" || !sandbox.bwrap) {
    return { file: blender, args: [...options.argv], env: blenderEnv(options.tmpDir), cwd: options.tmpDir };
  }
  return {
    file: sandbox.bwrap.path,
    args: bwrapArgs({ ...options, blender, disableUserns: sandbox.bwrap.disableUserns }),
    env: blenderEnv("/tmp"),
    cwd: options.tmpDir,
  };
}

/** bwrap's arguments around Blender's argv; exported for the tests that read them. */
export function bwrapArgs({
  blender,
  argv,
  files = {},
  tmpDir,
  disableUserns,
}: CommandOptions & { disableUserns: boolean }): string[] {
  const real = realPath(blender);
  const bind = (flag: string, paths: readonly string[] = []) => paths.flatMap((dir) => [flag, dir, dir]);
  return [
    // A user namespace with no capabilities, its own PIDs, no network but a loopback of its own, its own SysV IPC.
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    // Killed with the agent, even by SIGKILL; no terminal to push keystrokes into.
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    ...(disableUserns ? ["--disable-userns"] : []),
    ...systemMounts(),
    // Blender's own files, when it is not the system's (an official build in /opt/blender-4.2).
    ...(isUnder(real, "/usr") ? [] : ["--ro-bind", path.dirname(real), path.dirname(real)]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--bind",
    tmpDir,
    "/tmp",
    // Read-only first, so an output dir inside the archive's dir is still writable.
    ...bind("--ro-bind", files.readOnly),
    ...bind("--bind", files.writable),
    "--remount-ro",
    "/dev",
    "--remount-ro",
    "/",
    "--chdir",
    "/tmp",
    "--",
    real,
    ...argv,
  ];
}

const SYSTEM_TOP_DIRS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/** What the dynamic linker, Debian's alternatives (libblas) and fontconfig read; nothing else of /etc. */
const SYSTEM_ETC = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/fonts"];

let systemMountsMemo: string[] | null = null;

/** /usr read-only, and /bin, /lib… as this machine has them (symlinks into /usr on Debian 12). */
function systemMounts(): string[] {
  if (systemMountsMemo) return systemMountsMemo;
  const mounts = ["--ro-bind", "/usr", "/usr"];
  for (const dir of SYSTEM_TOP_DIRS) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) mounts.push("--symlink", readlinkSync(dir), dir);
      else if (stat.isDirectory()) mounts.push("--ro-bind", dir, dir);
    } catch {
      // Not on this machine.
    }
  }
  for (const file of SYSTEM_ETC) mounts.push("--ro-bind-try", file, file);
  // Blender lists mounted file systems at start; it sees the sandbox's own.
  mounts.push("--symlink", "/proc/self/mounts", "/etc/mtab");
  systemMountsMemo = mounts;
  return mounts;
}

const isUnder = (file: string, dir: string) => file.startsWith(`${dir}/`);

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** A program's absolute path: as given when it has a slash, else the first match on PATH. */
export function findExecutable(name: string, searchPath = process.env.PATH ?? ""): string | null {
  const candidates = name.includes("/") ? [path.resolve(name)] : searchPath.split(":").filter(Boolean).map((dir) => path.join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Next one.
    }
  }
  return null;
}

export interface RunnerOptions {
  /** Where each run's private temp dir is made (the agent's work dir under its cache). */
  tmpRoot?: string;
  /** The agent's PATH, to find Blender by name. */
  searchPath?: string;
}

/** Runs Blender (or a probe in the tests) in this sandbox: each run with its own temp dir, removed when it ends. */
export function sandboxedRunner(sandbox: Sandbox, { tmpRoot = os.tmpdir(), searchPath }: RunnerOptions = {}): BlenderRunner {
  return (blender, argv, files = {}) => {
    mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
    const tmpDir = mkdtempSync(path.join(tmpRoot, "blender-"));
    for (const dir of files.writable ?? []) mkdirSync(dir, { recursive: true });
    const command = sandboxCommand(sandbox, { blender, argv, files, tmpDir, searchPath });
    const child = spawn(command, sandbox.mode === "bwrap");
    return {
      ...child,
      exited: child.exited.finally(() => fs.rm(tmpDir, { recursive: true, force: true }).catch(() => undefined)),
    };
  };
}

const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals).map(([name, number]) => [number, name]));

function spawn(command: SandboxCommand, viaBwrap: boolean): BlenderProcess {
  const subprocess = execa(command.file, command.args, {
    all: true,
    buffer: false,
    reject: false,
    stdin: "ignore",
    env: command.env,
    extendEnv: false,
    cwd: command.cwd,
    // runBlender sends SIGKILL itself after its own grace period.
    forceKillAfterDelay: false,
  });
  return {
    lines: subprocess.iterable({ from: "all" }),
    exited: subprocess.then((result) => {
      let exitCode = result.exitCode ?? null;
      let signal: string | null = result.signal ?? null;
      // bwrap exits 128 + N when Blender dies of signal N: say which, as without it.
      if (viaBwrap && exitCode !== null && exitCode > 128 && SIGNAL_NAMES.has(exitCode - 128)) {
        signal = SIGNAL_NAMES.get(exitCode - 128)!;
        exitCode = null;
      }
      const startError = result.exitCode === undefined && !result.signal ? result.originalMessage || result.message : undefined;
      return { exitCode, signal, startError };
    }),
    kill: (signal) => void subprocess.kill(signal),
  };
}

/** Added to "Blender does not run" when it ran in the sandbox: the sandbox may be why. */
export function sandboxHint(sandbox: Sandbox): string {
  return sandbox.mode === "bwrap"
    ? " It ran in a bwrap sandbox, which shows it only /usr and Blender's own folder: a Blender behind a script that runs another path needs CACTUS_BLENDER set to the real one, or --sandbox off."
    : "";
}

/** Blender cannot run sandboxed here and the settings say it must (--sandbox bwrap). */
export class SandboxUnavailable extends Error {
  name = "SandboxUnavailable";
}

/**
 * Which sandbox Blender runs in on this machine: bwrap when it is installed and can make
 * its namespaces here (a probe runs `true` in the very sandbox Blender gets), else off.
 */
export async function detectSandbox(
  setting: SandboxSetting,
  { searchPath = process.env.PATH, tmpRoot = os.tmpdir() }: { searchPath?: string; tmpRoot?: string } = {},
): Promise<Sandbox> {
  if (setting === "off") return NO_SANDBOX;
  const unavailable = (why: string): Sandbox => {
    if (setting === "bwrap") {
      throw new SandboxUnavailable(
        `Blender cannot run in a sandbox here: ${why}. Install bubblewrap, or start the agent with --sandbox off (CACTUS_SANDBOX=off) to run Blender without one.`,
      );
    }
    return { mode: "off", reason: why };
  };
  const bwrap = findExecutable("bwrap", searchPath);
  if (!bwrap) return unavailable("bwrap is not installed (Debian: sudo apt-get install bubblewrap)");
  const help = await execa(bwrap, ["--help"], { reject: false, timeout: 10_000 });
  const sandbox: Sandbox = {
    mode: "bwrap",
    reason: "Blender runs in a bwrap sandbox: no network, only its task's files",
    bwrap: { path: bwrap, disableUserns: /--disable-userns/.test(`${help.stdout}`) },
  };
  const probe = await runProbe(sandbox, tmpRoot);
  return probe === null ? sandbox : unavailable(`bwrap cannot make a sandbox here (${probe})`);
}

/** Runs `true` in the sandbox: null when it worked, else what bwrap said. */
async function runProbe(sandbox: Sandbox, tmpRoot: string): Promise<string | null> {
  await fs.mkdir(tmpRoot, { recursive: true, mode: 0o700 });
  const tmpDir = await fs.mkdtemp(path.join(tmpRoot, "sandbox-probe-"));
  try {
    const command = sandboxCommand(sandbox, { blender: "true", argv: [], tmpDir, searchPath: SAFE_PATH });
    const result = await execa(command.file, command.args, {
      env: command.env,
      extendEnv: false,
      cwd: command.cwd,
      reject: false,
      stdin: "ignore",
      timeout: 10_000,
    });
    if (result.exitCode === 0) return null;
    return `${result.stderr}`.trim().split("\n")[0] || `exit ${result.exitCode ?? result.signal}`;
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
}
