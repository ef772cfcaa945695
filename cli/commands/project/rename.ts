import { defineCommand } from "../../lib/context";
import { resolveProject } from "../../lib/projects";

export const projectRename = defineCommand({
  command: "rename <project> <name>",
  describe: "Rename a project",
  builder: (yargs) =>
    yargs
      .positional("project", { type: "string", demandOption: true, describe: "The project's id or name" })
      .positional("name", { type: "string", demandOption: true, describe: "Its new name" }),
  async handler(args, context) {
    const client = await context.client();
    const project = await resolveProject(client, args.project);
    const renamed = await client.call("renameProject", { params: { projectId: project.id }, body: { name: args.name } });
    context.output.success(`Renamed project ${renamed.id} "${project.name}" to "${renamed.name}"`);
    context.output.result(renamed, () => "");
  },
});
