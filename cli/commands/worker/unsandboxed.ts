import { defineCommand } from "../../lib/context";
import { resolveWorker } from "../../lib/workers";

// Other people's files reach a worker only when its agent runs Blender in the sandbox,
// or when its owner chose to let it render them without one (docs/design.md §5,
// decision 025): this is that choice, as the Workers page's button makes it.

export const workerUnsandboxed = defineCommand({
  command: "unsandboxed <worker> <whose>",
  describe:
    "Choose whose files a worker renders when its agent runs Blender without the sandbox: `own` (the default) or `others` too — " +
    "then a file of another person's could read what the agent's user can",
  builder: (yargs) =>
    yargs
      .positional("worker", { type: "string", demandOption: true, describe: "The worker's id or name" })
      .positional("whose", { choices: ["own", "others"] as const, demandOption: true, describe: "own: only your files; others: requests you accept too" })
      .example("$0 worker unsandboxed studio-pc others", "studio-pc may render other people's renders you accept, without the sandbox")
      .example("$0 worker unsandboxed studio-pc own", "without the sandbox, studio-pc renders only your own files again"),
  async handler(args, context) {
    const client = await context.client();
    const worker = await resolveWorker(client, args.worker);
    const othersUnsandboxed = args.whose === "others";
    const changed = await client.call("updateWorker", { params: { workerId: worker.id }, body: { othersUnsandboxed } });
    context.output.success(
      othersUnsandboxed
        ? `Worker ${changed.id} "${changed.name}" renders other people's files you accept even without the sandbox`
        : `Worker ${changed.id} "${changed.name}" renders only your own files when its agent runs without the sandbox`,
    );
    if (changed.capabilities.sandbox === "bwrap") {
      context.output.message("Its agent runs Blender in the sandbox now, so it takes the renders you accept either way; this counts if it stops.");
    } else if (changed.capabilities.sandbox === undefined) {
      context.output.message("Its agent has not said yet whether it runs Blender in the sandbox (`cactus worker list` shows it once it has).");
    }
    context.output.result(changed, () => "");
  },
});
