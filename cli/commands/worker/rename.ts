import { defineCommand } from "../../lib/context";
import { resolveWorker } from "../../lib/workers";

export const workerRename = defineCommand({
  command: "rename <worker> <name>",
  describe: "Rename a worker",
  builder: (yargs) =>
    yargs
      .positional("worker", { type: "string", demandOption: true, describe: "The worker's id or name" })
      .positional("name", { type: "string", demandOption: true, describe: "Its new name" }),
  async handler(args, context) {
    const client = await context.client();
    const worker = await resolveWorker(client, args.worker);
    const renamed = await client.call("updateWorker", { params: { workerId: worker.id }, body: { name: args.name } });
    context.output.success(`Renamed worker ${renamed.id} "${worker.name}" to "${renamed.name}"`);
    context.output.result(renamed, () => "");
  },
});
