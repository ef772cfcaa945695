import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";

const BLOCK_BYTES = 64 * 1024 * 1024;

/**
 * A file of `size` bytes that the server takes for a .blend (its header) and nobody has
 * seen before (a random run id in every block's first bytes, so the sha256 is new each
 * run), made fast: one 64 MiB random block written over and over. Answers its sha256.
 */
export async function writeBenchFile(file: string, size: number): Promise<string> {
  const block = randomBytes(BLOCK_BYTES);
  const runId = randomBytes(16).toString("hex");
  const hash = createHash("sha256");
  const handle = await fs.open(file, "w");
  try {
    for (let offset = 0, index = 0; offset < size; offset += BLOCK_BYTES, index += 1) {
      const header = index === 0 ? `BLENDER-v304REND cactus bench ${runId} ` : `block ${index} of run ${runId} `;
      block.write(header, 0, "latin1");
      const chunk = block.subarray(0, Math.min(BLOCK_BYTES, size - offset));
      hash.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** Wall time of a command, in seconds; a non-zero exit is an error. */
export async function timeCommand(command: string, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Writes dirty pages out, so each timed step starts from the same clean page cache state. */
export async function sync(): Promise<void> {
  await timeCommand("sync", []);
}
