import type { RenderFailureListDto } from "../../../contract";
import { defineCommand } from "../../lib/context";
import { parseId } from "../../lib/ids";
import { formatTime } from "../../lib/output";

/** Log lines shown per failure without --full: Blender's last words are where the reason is. */
export const LOG_LINES_SHOWN = 20;

export const renderFailures = defineCommand({
  command: "failures <id>",
  describe: "Show a render's failed tries, newest first: the frames, the worker, the error and the end of Blender's log",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .option("full", { type: "boolean", describe: `Print each log tail whole, not its last ${LOG_LINES_SHOWN} lines` })
      .example("$0 render failures 12", "why render 12's frames failed")
      .example("$0 render failures 12 --json", "the failures with their whole log tails, as JSON"),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const client = await context.client();
    const list = await client.call("listRenderFailures", { params: { renderId: id } });
    context.output.result(list, () => describeFailures(id, list, Boolean(args.full)));
  },
});

function describeFailures(id: number, list: RenderFailureListDto, full: boolean): string {
  if (list.failures.length === 0) return `Render ${id} has no failures.`;
  const blocks = list.failures.map((failure) => {
    const frames = failure.frameStart === failure.frameEnd ? `Frame ${failure.frameStart}` : `Frames ${failure.frameStart}-${failure.frameEnd}`;
    const lines = [`${frames} · ${failure.workerName} · ${formatTime(failure.at)} (task ${failure.taskId})`];
    lines.push(...failure.error.split("\n").map((line) => `  ${line}`));
    const log = failure.logTail ? failure.logTail.replace(/\n+$/, "").split("\n") : [];
    const hidden = full ? 0 : Math.max(0, log.length - LOG_LINES_SHOWN);
    if (hidden > 0) lines.push(`  │ … ${hidden} earlier line${hidden === 1 ? "" : "s"} (--full shows them)`);
    lines.push(...log.slice(hidden).map((line) => `  │ ${line}`));
    return lines.join("\n");
  });
  const older = list.total - list.failures.length;
  if (older > 0) blocks.push(`and ${older} older failure${older === 1 ? "" : "s"}, not listed.`);
  return blocks.join("\n\n");
}
