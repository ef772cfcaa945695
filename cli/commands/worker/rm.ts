import { defineCommand } from "../../lib/context";
import { resolveWorker } from "../../lib/workers";

export const workerRm = defineCommand({
  command: "rm <worker>",
  describe: "Remove a worker: its token stops working, a task it holds goes back in the queue",
  builder: (yargs) => yargs.positional("worker", { type: "string", demandOption: true, describe: "The worker's id or name" }),
  async handler(args, context) {
    const client = await context.client();
    const worker = await resolveWorker(client, args.worker);
    await client.call("deleteWorker", { params: { workerId: worker.id } });
    context.output.success(`Removed worker ${worker.id} "${worker.name}"`);
    context.output.result({ id: worker.id, name: worker.name, removed: true }, () => "");
  },
});
