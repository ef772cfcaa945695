import { defineCommand } from "../../lib/context";
import { describeArchive } from "../../lib/archives";
import { parseId } from "../../lib/ids";
import { formatBytes } from "../../lib/output";
import { kindLabel } from "./upload";

export const archiveShow = defineCommand({
  command: "show <id>",
  describe: "Show what an agent found in an archive's scene (scenes, camera, frames, engine, missing files…) and whether it renders",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The archive's id (see `cactus archive list`)" })
      .example("$0 archive show 7", "its scenes and what a render of it would meet")
      .example("$0 archive show 7 --json", "every fact, as JSON"),
  async handler(args, context) {
    const id = parseId(args.id, "The archive's id");
    const client = await context.client();
    const archive = await client.call("getArchive", { params: { archiveId: id } });
    context.output.result(archive, () => describeArchive(archive, kindLabel(archive), formatBytes(archive.size)));
  },
});
