import { defineCommand } from "../../lib/context";

export const workerCreate = defineCommand({
  command: "create <name>",
  describe: "Add a worker machine: prints its agent token (shown only now)",
  builder: (yargs) =>
    yargs
      .positional("name", { type: "string", demandOption: true, describe: "A name for the machine, e.g. studio-pc" })
      .example("$0 worker create studio-pc", "a token for the agent on studio-pc"),
  async handler(args, context) {
    const client = await context.client();
    const worker = await client.call("createWorker", { body: { name: args.name } });
    const { output } = context;
    output.success(`Created worker ${worker.id} "${worker.name}".`);
    output.message(
      "Its token is shown only now. On that machine (Node 20+ and Blender), install and start its agent:\n\n" +
        `    ${worker.agentInstall}\n\n` +
        "As you, that puts the cactus-agent command in ~/.local/bin; with `| sudo sh -s -- …` a systemd service with a user of its own.\n" +
        "It checks Blender, the sandbox, the farm and the token (`cactus-agent doctor`) before it starts.",
    );
    output.result({ id: worker.id, name: worker.name, token: worker.token, agentInstall: worker.agentInstall }, () => worker.token);
  },
});
