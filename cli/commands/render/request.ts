import type { RenderDto } from "../../../contract";
import { defineCommand } from "../../lib/context";
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
      .option("estimate-only", {
        type: "boolean",
        describe: "Render only the sample frames and stop at the quote, until `cactus render confirm ID`",
      })
      .example("$0 render request --archive 7 --frames 1-24", "render frames 1 to 24 of archive 7 as PNG")
      .example("$0 render request -a 7 -f 1-240:10 --format exr --json", "every 10th frame as OpenEXR")
      .example("$0 render request -a 7 -f 1-480 --estimate-only", "a quote first; nothing else renders until you confirm it"),
  async handler(args, context) {
    const body = {
      ...parseArchiveRef(args.archive),
      format: parseFormat(args.format),
      ...(args.frames !== undefined ? { frames: args.frames } : {}),
      ...(args.chunk !== undefined ? { chunk: args.chunk } : {}),
      ...(args.price !== undefined ? { price: args.price } : {}),
      ...(args.estimateOnly ? { estimateOnly: true } : {}),
    };
    const client = await context.client();
    const render = await client.call("requestRender", { body });
    context.output.success(`Render ${render.id} ${render.status}: frames ${frameRange(render)} of ${render.archiveFilename}. ${next(render)}`);
    context.output.result(render, () => String(render.id));
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
