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
      .example("$0 render request --archive 7 --frames 1-24", "render frames 1 to 24 of archive 7 as PNG")
      .example("$0 render request -a 7 -f 1-240:10 --format exr --json", "every 10th frame as OpenEXR"),
  async handler(args, context) {
    const body = {
      ...parseArchiveRef(args.archive),
      format: parseFormat(args.format),
      ...(args.frames !== undefined ? { frames: args.frames } : {}),
      ...(args.chunk !== undefined ? { chunk: args.chunk } : {}),
      ...(args.price !== undefined ? { price: args.price } : {}),
    };
    const client = await context.client();
    const render = await client.call("requestRender", { body });
    context.output.success(
      `Render ${render.id} ${render.status}: frames ${frameRange(render)} of ${render.archiveFilename} in ${render.tasks} ` +
        `task${render.tasks === 1 ? "" : "s"}. Follow it with \`cactus render status ${render.id} --watch\`.`,
    );
    context.output.result(render, () => String(render.id));
  },
});
