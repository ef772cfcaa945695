import { defineCommand } from "../../lib/context";
import { resolveWorker } from "../../lib/workers";

/** `worker enable W` and `worker disable W`: the same PATCH, the other way round. */
function switchCommand(enabled: boolean) {
  const verb = enabled ? "enable" : "disable";
  return defineCommand({
    command: `${verb} <worker>`,
    describe: enabled
      ? "Let a worker take tasks again"
      : "Stop handing a worker tasks: the task it holds goes back in the queue, its agent waits until enabled",
    builder: (yargs) => yargs.positional("worker", { type: "string", demandOption: true, describe: "The worker's id or name" }),
    async handler(args, context) {
      const client = await context.client();
      const worker = await resolveWorker(client, args.worker);
      const changed = await client.call("updateWorker", { params: { workerId: worker.id }, body: { enabled } });
      context.output.success(`${enabled ? "Enabled" : "Disabled"} worker ${changed.id} "${changed.name}"`);
      context.output.result(changed, () => "");
    },
  });
}

export const workerEnable = switchCommand(true);
export const workerDisable = switchCommand(false);
