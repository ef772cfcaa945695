import { defineCommand } from "../../lib/context";

export const tokenCreate = defineCommand({
  command: "create",
  describe: "Create an API token (printed once)",
  builder: (yargs) =>
    yargs
      .option("name", { type: "string", demandOption: true, describe: "What the token is for, e.g. ci" })
      .example("$0 token create --name ci --json", "a token for a CI pipeline"),
  async handler(args, context) {
    const client = await context.client();
    const token = await client.call("createToken", { body: { name: args.name } });
    context.output.message(`Token ${token.id} "${token.name}" created; it is shown only now, keep it somewhere safe.`);
    context.output.result(token, () => token.token);
  },
});
