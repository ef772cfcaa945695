import { defineCommand } from "../../lib/context";
import { engineLabel } from "../../../domain/engines";
import type { WorkerDto } from "../../../contract";
import { formatTime } from "../../lib/output";

/** Whether it takes the other people's renders its owner accepts: in the sandbox, or without one by choice. */
function othersFiles(worker: WorkerDto): string {
  if (worker.capabilities.sandbox === "bwrap") return "yes";
  return worker.othersUnsandboxed ? "yes, unsandboxed" : "no";
}

export const workerList = defineCommand({
  command: "list",
  describe:
    "List your workers, their status, what their agents reported, whether they take other people's renders you accept, " +
    "and their WUPM (work units per minute, from the benchmark)",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listWorkers", {});
    const yesNo = (value: boolean | undefined) => (value === undefined ? "-" : value ? "yes" : "no");
    context.output.result(list, () =>
      context.output.table(
        ["id", "name", "status", "enabled", "blender", "threads", "denoiser", "sandbox", "others' files", "engines", "WUPM", "benchmarked", "last seen"],
        list.workers.map((worker) => [
          String(worker.id),
          worker.name,
          worker.status === "paused" ? "paused by its owner" : worker.status,
          yesNo(worker.enabled),
          worker.blenderVersion ?? "-",
          worker.capabilities.threads === undefined ? "-" : String(worker.capabilities.threads),
          yesNo(worker.capabilities.denoiser),
          worker.capabilities.sandbox ?? "-",
          othersFiles(worker),
          worker.capabilities.engines ? worker.capabilities.engines.map(engineLabel).join(", ") || "none" : "-",
          worker.wupm === null ? "-" : worker.wupm.toFixed(2),
          formatTime(worker.wupmMeasuredAt),
          formatTime(worker.lastSeenAt),
        ]),
        "No workers yet; `cactus worker create NAME` adds one and prints its agent's token.",
      ),
    );
    // Why, under the table: its agent gave the machine back to its owner and resumes by itself.
    if (!context.output.json) {
      for (const worker of list.workers.filter((candidate) => candidate.status === "paused")) {
        context.output.message(`${worker.name} is paused by its owner: ${worker.pausedReason ?? "the machine is busy"}.`);
      }
    }
  },
});
