import { defineCommand } from "../../lib/context";
import { formatTime } from "../../lib/output";

export const workerList = defineCommand({
  command: "list",
  describe: "List your workers, their status and what their agents reported",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listWorkers", {});
    const yesNo = (value: boolean | undefined) => (value === undefined ? "-" : value ? "yes" : "no");
    context.output.result(list, () =>
      context.output.table(
        ["id", "name", "status", "enabled", "blender", "threads", "denoiser", "sandbox", "last seen"],
        list.workers.map((worker) => [
          String(worker.id),
          worker.name,
          worker.status,
          yesNo(worker.enabled),
          worker.blenderVersion ?? "-",
          worker.capabilities.threads === undefined ? "-" : String(worker.capabilities.threads),
          yesNo(worker.capabilities.denoiser),
          worker.capabilities.sandbox ?? "-",
          formatTime(worker.lastSeenAt),
        ]),
        "No workers yet; `cactus worker create NAME` adds one and prints its agent's token.",
      ),
    );
  },
});
