import { defineCommand } from "../../lib/context";
import { formatTime } from "../../lib/output";

export const projectList = defineCommand({
  command: "list",
  describe: "List your projects",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listProjects", {});
    context.output.result(list, () =>
      context.output.table(
        ["id", "name", "archives", "created"],
        list.projects.map((project) => [String(project.id), project.name, String(project.archiveCount), formatTime(project.createdAt)]),
        "No projects yet; `cactus project create NAME` makes one.",
      ),
    );
  },
});
