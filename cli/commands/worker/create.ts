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
      "Its token is shown only now. On that machine, with Blender installed, run:\n\n" +
        `    CACTUS_SERVER=${client.server} CACTUS_WORKER_TOKEN=${worker.token} npx cactus-agent\n\n` +
        "(`npx cactus-agent doctor` first checks Blender, the server and the token.)",
    );
    output.result({ id: worker.id, name: worker.name, token: worker.token }, () => worker.token);
  },
});
