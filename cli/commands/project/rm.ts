import { defineCommand } from "../../lib/context";
import { resolveProject } from "../../lib/projects";

export const projectRm = defineCommand({
  command: "rm <project>",
  describe: "Delete a project and its archives (refused while one of its renders runs)",
  builder: (yargs) =>
    yargs.positional("project", { type: "string", demandOption: true, describe: "The project's id or name" }),
  async handler(args, context) {
    const client = await context.client();
    const project = await resolveProject(client, args.project);
    await client.call("deleteProject", { params: { projectId: project.id } });
    context.output.success(`Deleted project ${project.id} "${project.name}"`);
    context.output.result({ id: project.id, name: project.name, deleted: true }, () => "");
  },
});
