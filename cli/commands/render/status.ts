import { renderSchema, type RenderDto } from "../../../contract";
import type { ApiClient } from "../../lib/client";
import { defineCommand, type CliContext } from "../../lib/context";
import { AuthError, NotFoundError, UserError } from "../../lib/errors";
import { readEvents } from "../../lib/events";
import { parseId } from "../../lib/ids";
import { describeRender } from "../../lib/renders";
import { isRenderFinished } from "../../../domain/render-lifecycle";

/** Reconnects after the stream broke (a server restart, a network blip) before giving up. */
const RECONNECTS = 5;

export const renderStatus = defineCommand({
  command: "status <id>",
  describe: "Show how far a render is; --watch follows it live until it ends (exit 0 when done, 1 when failed or cancelled)",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .option("watch", { alias: "w", type: "boolean", describe: "Follow it until it ends (with --json: one JSON line per change)" })
      .example("$0 render status 12 --watch", "a live progress view")
      .example("$0 render status 12 --json", "frames by status and the workers on it, as JSON"),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const client = await context.client();
    if (!args.watch) {
      const render = await client.call("getRender", { params: { renderId: id } });
      context.output.result(render, () => describeRender(render));
      return;
    }
    const render = await watch(client, id, display(context));
    if (render.status !== "done") {
      throw new UserError(`render ${render.id} ${render.status}${render.failure ? `: ${render.failure}` : ""}`);
    }
  },
});

/** How each change is shown: redrawn in place on a terminal, a line each in a pipe, JSON lines with --json. */
function display({ output, io }: CliContext): (render: RenderDto) => void {
  let drawnLines = 0;
  return (render) => {
    if (output.json) {
      io.stdout.write(`${JSON.stringify(render)}\n`);
    } else if (io.stdout.isTTY) {
      const text = `${describeRender(render)}\n`;
      io.stdout.write(`${drawnLines > 0 ? `\u001b[${drawnLines}A\u001b[0J` : ""}${text}`);
      drawnLines = text.split("\n").length - 1;
    } else {
      const { frames } = render;
      io.stdout.write(
        `render ${render.id} ${render.status}: ${frames.done}/${frames.total} done, ${frames.rendering} rendering, ` +
          `${frames.queued} queued, ${frames.failed} failed${render.waiting ? ` (waiting: ${render.waiting})` : ""}\n`,
      );
    }
  };
}

/** Follows the render's event stream until it ends, reconnecting when the stream breaks. */
async function watch(client: ApiClient, id: number, show: (render: RenderDto) => void): Promise<RenderDto> {
  let broken = 0;
  for (;;) {
    let failure: unknown;
    try {
      const response = await client.open("renderEvents", { params: { renderId: id } });
      for await (const event of readEvents(response.body!)) {
        if (event.event !== "render") continue;
        broken = 0;
        const render = renderSchema.parse(JSON.parse(event.data));
        show(render);
        if (isRenderFinished(render.status)) return render;
      }
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof AuthError) throw error;
      failure = error;
    }
    // The stream broke or ended before the render did (the server restarted): connect again.
    if (++broken > RECONNECTS) {
      throw failure ?? new UserError(`the server ended the event stream of render ${id} ${RECONNECTS + 1} times in a row; try again later`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** broken, 4000)));
  }
}
