import { defineCommand } from "../../lib/context";

export const projectCreate = defineCommand({
  command: "create <name>",
  describe: "Create a project",
  builder: (yargs) =>
    yargs
      .positional("name", { type: "string", demandOption: true, describe: "The project's name (quote it if it has spaces)" })
      .example('$0 project create "Spring short"', "a project for a short film"),
  async handler(args, context) {
    const client = await context.client();
    const project = await client.call("createProject", { body: { name: args.name } });
    context.output.success(`Created project ${project.id} "${project.name}"`);
    context.output.result(project, () => String(project.id));
  },
});
