import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import sharp from "sharp";
import { encodePng } from "../../tests/helpers/png";
import { BLENDER } from "../../tests/helpers/scenes";

// What the sandbox tests build on the worker's side: images to leak, scenes that name
// them, and a look at the machine's processes from outside the sandbox.

const MAKE_TEXTURE_SCENE = path.resolve(import.meta.dirname, "../../tests/scenes/make-texture-scene.py");
const PROBE_AGENT = path.resolve(import.meta.dirname, "probe-agent.ts");

export type Rgb = [number, number, number];
export const BLUE: Rgb = [0, 0, 255];
export const GREEN: Rgb = [0, 255, 0];
/** What Cycles draws where an image cannot be read. */
export const MAGENTA: Rgb = [255, 0, 255];

/** A 4×4 PNG of one colour. */
export function solidPng([r, g, b]: Rgb): Buffer {
  const row = Buffer.from([0, ...Array.from({ length: 4 }, () => [r, g, b]).flat()]);
  return encodePng(4, 4, 2, Buffer.concat([row, row, row, row]));
}

/** A .blend at `file` whose frame is one 16 px strip per texture path (tests/scenes/make-texture-scene.py). */
export async function makeTextureScene(file: string, textures: string[]): Promise<void> {
  const made = await execa(BLENDER, ["-b", "--factory-startup", "--python", MAKE_TEXTURE_SCENE, "--", JSON.stringify({ path: file, textures })], {
    reject: false,
    all: true,
  });
  if (made.exitCode !== 0) throw new Error(`make-texture-scene.py failed:\n${made.all}`);
}

/** The colour in the middle of each 16 px strip of a rendered frame. */
export async function stripColours(file: string, strips: number): Promise<Rgb[]> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Array.from({ length: strips }, (_, strip) => {
    const at = (8 * info.width + strip * 16 + 8) * 3;
    return [data[at], data[at + 1], data[at + 2]] as Rgb;
  });
}

/** Within 8 of each other on every channel (Cycles' filter and 8-bit rounding). */
export const sameColour = (a: Rgb, b: Rgb) => a.every((value, index) => Math.abs(value - b[index]) <= 8);

/** PIDs of this machine's processes whose command line holds `marker`, read from /proc as the host sees it. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").includes(marker)) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

export interface ProbeOrder {
  sandbox: "bwrap" | "off";
  code: string;
  params?: unknown;
  files?: { readOnly?: string[]; writable?: string[] };
  tmpRoot: string;
}

/** agent/testing/probe-agent.ts in a process of its own, with `env` (a worker token) as its environment. */
export function spawnProbeAgent(order: ProbeOrder, env: Record<string, string>) {
  return execa(process.execPath, ["--import", "tsx", PROBE_AGENT, JSON.stringify({ blender: BLENDER, ...order })], {
    env: { PATH: process.env.PATH ?? "", ...env },
    extendEnv: false,
    reject: false,
    cwd: path.resolve(import.meta.dirname, "../.."),
  });
}
