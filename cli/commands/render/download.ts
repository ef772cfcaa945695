import fsp from "node:fs/promises";
import path from "node:path";
import type { FrameDto } from "../../../contract";
import { FrameRangeError, formatFrameRange, parseFrameRange, type FrameRange } from "../../../domain/frames";
import type { ApiClient } from "../../lib/client";
import { defineCommand, type CliContext } from "../../lib/context";
import { NotFoundError, UsageError, UserError } from "../../lib/errors";
import { parseId } from "../../lib/ids";
import { formatBytes } from "../../lib/output";
import { createProgress } from "../../lib/progress";
import { dispositionFilename, fileSize, saveBody } from "../../lib/save";

export const renderDownload = defineCommand({
  command: "download <id>",
  describe: "Download a render's frames into a folder (skips those already there), or --zip them",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .option("out", { alias: "o", type: "string", demandOption: true, describe: "The folder to save into (made if missing)" })
      .option("frames", { alias: "f", type: "string", describe: "Only these frames: A-B, A-B:STEP or one frame" })
      .option("zip", { type: "boolean", describe: "One .zip of the frames instead of a file per frame" })
      .example("$0 render download 12 --out shots/", "every rendered frame, one file each")
      .example("$0 render download 12 -o . --frames 1-24 --zip", "frames 1-24 as one zip"),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const range = args.frames === undefined ? undefined : parseRange(args.frames);
    const client = await context.client();
    await fsp.mkdir(args.out, { recursive: true }).catch((error: Error) => {
      throw new UserError(`cannot make the folder ${args.out}: ${error.message}`);
    });
    if (args.zip) await downloadZip(client, context, id, args.out, args.frames);
    else await downloadFrames(client, context, id, args.out, range);
  },
});

function parseRange(text: string): FrameRange {
  try {
    return parseFrameRange(text);
  } catch (error) {
    if (error instanceof FrameRangeError) throw new UsageError(`--frames: ${error.message}`);
    throw error;
  }
}

const inRange = (frame: number, range: FrameRange | undefined) =>
  !range || (frame >= range.start && frame <= range.end && (frame - range.start) % range.step === 0);

async function downloadZip(client: ApiClient, { io, output }: CliContext, id: number, out: string, frames: string | undefined) {
  const response = await client.open("downloadRender", { params: { renderId: id }, query: { frames } });
  const file = path.join(out, dispositionFilename(response.headers.get("content-disposition")) ?? `render${id}.zip`);
  const progress = createProgress(io.stderr, "downloading", Number(response.headers.get("content-length") ?? 0));
  const bytes = await saveBody(response.body!, file, (chunk) => progress.advance(chunk));
  progress.done();
  output.success(`Saved ${file} (${formatBytes(bytes)})`);
  output.result({ id, file, bytes }, () => file);
}

interface Saved {
  frame: number;
  file: string;
  bytes: number;
  skipped: boolean;
}

async function downloadFrames(client: ApiClient, { io, output }: CliContext, id: number, out: string, range: FrameRange | undefined) {
  const { frames } = await client.call("listRenderFrames", { params: { renderId: id } });
  const asked = frames.filter((frame) => inRange(frame.frame, range));
  const rendered = asked.filter((frame) => frame.status === "done");
  if (rendered.length === 0) {
    throw new NotFoundError(`render ${id} has no rendered frames${range ? ` in ${formatFrameRange(range)}` : ""} yet; \`cactus render status ${id}\` shows how far it is`);
  }
  // A file of the frame's name and size is that frame already: it is not fetched again.
  const plan = await Promise.all(
    rendered.map(async (frame) => {
      const file = path.join(out, frame.filename);
      return { frame, file, have: frame.bytes !== null && (await fileSize(file)) === frame.bytes };
    }),
  );
  const missing = plan.filter((item) => !item.have);
  const progress = createProgress(io.stderr, "downloading", missing.reduce((sum, item) => sum + (item.frame.bytes ?? 0), 0));
  const saved: Saved[] = [];
  for (const { frame, file, have } of plan) {
    if (have) {
      saved.push({ frame: frame.frame, file, bytes: frame.bytes!, skipped: true });
      continue;
    }
    saved.push({ frame: frame.frame, file, bytes: await fetchFrame(client, id, frame, file, (chunk) => progress.advance(chunk)), skipped: false });
  }
  if (missing.length > 0) progress.done();

  const fetched = saved.filter((item) => !item.skipped);
  const notYet = asked.length - rendered.length;
  output.success(
    `Downloaded ${fetched.length} frame${fetched.length === 1 ? "" : "s"} (${formatBytes(fetched.reduce((sum, item) => sum + item.bytes, 0))}) ` +
      `to ${out}${saved.length > fetched.length ? `; ${saved.length - fetched.length} already there` : ""}` +
      `${notYet > 0 ? `; ${notYet} not rendered yet` : ""}`,
  );
  output.result({ id, out, frames: saved }, () => saved.map((item) => item.file).join("\n"));
}

async function fetchFrame(client: ApiClient, id: number, frame: FrameDto, file: string, onBytes: (bytes: number) => void) {
  const response = await client.open("getRenderFrame", { params: { renderId: id, frame: frame.frame } });
  return saveBody(response.body!, file, onBytes);
}
