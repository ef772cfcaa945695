import type { RenderDto } from "../../../contract";
import { defineCommand } from "../../lib/context";
import { FRAMES_PER_TASK } from "../../../domain/frames";
import { RENDER_OPTION_LIMITS } from "../../../domain/scene-check";
import { UsageError } from "../../lib/errors";
import { frameRange, parseArchiveRef, parseFormat } from "../../lib/renders";

export const renderRequest = defineCommand({
  command: "request",
  describe: "Request a render of one of your archives; its frames are queued for your workers",
  builder: (yargs) =>
    yargs
      .option("archive", { alias: "a", type: "string", demandOption: true, describe: "The archive's id or sha256" })
      .option("frames", { alias: "f", type: "string", describe: "A-B, A-B:STEP or one frame (default: the scene's own range)" })
      .option("chunk", { type: "number", describe: "Consecutive frames per task (default 1)" })
      .option("format", { type: "string", default: "png", describe: "png, jpeg or exr" })
      .option("price", { type: "number", describe: "Credits per work unit: the render's priority (default 0)" })
      .option("max-credits", {
        type: "number",
        describe: "Pre-authorise up to this many credits: once quoted it carries on by itself if its upper bound fits, else waits for `cactus render confirm`",
      })
      .option("estimate-only", {
        type: "boolean",
        describe: "Render only the sample frames and stop at the quote, until `cactus render confirm ID`",
      })
      .option("scene", { type: "string", describe: "Render this scene of the file (default: the one it opens with)" })
      .option("camera", { type: "string", describe: "Render through this camera object of the file" })
      .option("view-layer", { type: "string", describe: "Render only this view layer (turned on if the file has it off)" })
      .option("resolution-percentage", { type: "number", describe: "Percentage of the scene's resolution, 1-1000 (e.g. 25 for previews)" })
      .option("samples", { type: "number", describe: "Samples per pixel (Cycles, Eevee)" })
      .option("strict", { type: "boolean", describe: "Refuse the render when files the scene uses are missing from the archive" })
      .example("$0 render request --archive 7 --frames 1-24", "render frames 1 to 24 of archive 7 as PNG")
      .example("$0 render request -a 7 -f 1-240:10 --format exr --json", "every 10th frame as OpenEXR")
      .example("$0 render request -a 7 -f 1-480 --estimate-only", "a quote first; nothing else renders until you confirm it")
      .example("$0 render request -a 7 --resolution-percentage 25 --samples 16", "quick preview frames")
      .example("$0 render request -a 7 --camera Camera --strict", "through the camera Camera; no render if a texture is missing")
      .epilogue(
        "The server checks the request against what an agent found in the scene (`cactus archive show ID`): a scene " +
          "Blender cannot render (no camera, no view layer that renders) is refused, saying what to pass instead. " +
          "The sample frames and the quote are of the scene as you change it.",
      ),
  async handler(args, context) {
    checkWhole("--chunk", args.chunk, FRAMES_PER_TASK, 1);
    checkWhole("--resolution-percentage", args.resolutionPercentage, RENDER_OPTION_LIMITS.resolutionPercentage, 25);
    checkWhole("--samples", args.samples, RENDER_OPTION_LIMITS.samples, 16);
    for (const [flag, value] of [["--scene", args.scene], ["--camera", args.camera], ["--view-layer", args.viewLayer]] as const) {
      if (value !== undefined && String(value).trim() === "") throw new UsageError(`${flag} takes a name from the file; \`cactus archive show ID\` lists them`);
    }
    const body = {
      ...parseArchiveRef(args.archive),
      format: parseFormat(args.format),
      ...(args.frames !== undefined ? { frames: args.frames } : {}),
      ...(args.chunk !== undefined ? { chunk: args.chunk } : {}),
      ...(args.price !== undefined ? { price: args.price } : {}),
      ...(args.estimateOnly ? { estimateOnly: true } : {}),
      ...(args.scene !== undefined ? { scene: args.scene } : {}),
      ...(args.camera !== undefined ? { camera: args.camera } : {}),
      ...(args.viewLayer !== undefined ? { viewLayer: args.viewLayer } : {}),
      ...(args.resolutionPercentage !== undefined ? { resolutionPercentage: args.resolutionPercentage } : {}),
      ...(args.samples !== undefined ? { samples: args.samples } : {}),
      ...(args.strict ? { strict: true } : {}),
      ...(args.maxCredits !== undefined ? { maxCredits: args.maxCredits } : {}),
    };
    const client = await context.client();
    const render = await client.call("requestRender", { body });
    const { output } = context;
    const frames = render.frameStart === render.frameEnd ? "frame" : "frames";
    output.success(`Render ${render.id} ${render.status}: ${frames} ${frameRange(render)} of ${render.archiveFilename}. ${next(render)}`);
    for (const warning of render.warnings) output.message(`${output.paint(output.stderr, "yellow", "warning:")} ${warning}`);
    output.result(render, () => String(render.id));
  },
});

/** What happens now, and how to follow it. */
function next(render: RenderDto): string {
  const follow = `Follow it with \`cactus render status ${render.id} --watch\`.`;
  if (render.sample.frames === 0) return `${render.tasks} task${render.tasks === 1 ? "" : "s"} queued. ${follow}`;
  const sample = `${render.sample.frames} sample frames across the timeline render first`;
  if (render.estimateOnly) {
    return `${sample}; then it waits for your confirmation: see the quote with \`cactus render estimate ${render.id}\`, then \`cactus render confirm ${render.id}\`.`;
  }
  return `${sample}, for the quote (\`cactus render estimate ${render.id}\`); then it carries on by itself. ${follow}`;
}

/** A whole number within limits, or a usage error naming the flag. */
function checkWhole(flag: string, value: number | undefined, { min, max }: { min: number; max: number }, example: number) {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max.toLocaleString("en")}, e.g. ${example}`);
  }
}
