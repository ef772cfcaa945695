import { defineCommand } from "../../lib/context";
import { formatTime } from "../../lib/output";
import { frameRange } from "../../lib/renders";

export const renderList = defineCommand({
  command: "list",
  describe: "List your renders, newest first",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listRenders", {});
    context.output.result(list, () =>
      context.output.table(
        ["id", "status", "archive", "frames", "done", "format", "price", "requested"],
        list.renders.map((render) => [
          String(render.id),
          render.status,
          render.archiveFilename,
          frameRange(render),
          `${render.frames.done}/${render.frames.total}`,
          render.format,
          String(render.price),
          formatTime(render.createdAt),
        ]),
        "No renders yet; `cactus render request --archive ID --frames 1-24` requests one.",
      ),
    );
  },
});
