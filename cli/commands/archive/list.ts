import { engineCell, framesCell, resolutionCell } from "../../lib/archives";
import { defineCommand } from "../../lib/context";
import { formatBytes, formatTime } from "../../lib/output";
import { resolveProject } from "../../lib/projects";
import { kindLabel } from "./upload";

export const archiveList = defineCommand({
  command: "list",
  describe: "List the archives of a project",
  builder: (yargs) =>
    yargs
      .option("project", { alias: "p", type: "string", demandOption: true, describe: "The project's id or name" })
      .example('$0 archive list -p "Spring short" --json', "as JSON")
      .epilogue("Engine, resolution (of the frames written) and frames show once an agent has read the scene; `cactus archive show ID` has it all."),
  async handler(args, context) {
    const client = await context.client();
    const project = await resolveProject(client, args.project);
    const list = await client.call("listArchives", { params: { projectId: project.id } });
    context.output.result(list, () =>
      context.output.table(
        ["id", "file", "kind", "size", "blender", "engine", "resolution", "frames", "sha256", "uploaded"],
        list.archives.map((archive) => [
          String(archive.id),
          archive.filename,
          kindLabel(archive),
          formatBytes(archive.size),
          archive.facts.blenderVersion ?? "-",
          engineCell(archive.facts),
          resolutionCell(archive.facts),
          framesCell(archive.facts),
          archive.hash.slice(0, 12),
          formatTime(archive.createdAt),
        ]),
        `No archives in "${project.name}" yet; \`cactus archive upload FILE -p ${project.id}\` adds one.`,
      ),
    );
  },
});
