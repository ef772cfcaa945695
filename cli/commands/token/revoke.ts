import { defineCommand } from "../../lib/context";
import { parseId } from "../../lib/ids";

export const tokenRevoke = defineCommand({
  command: "revoke <id>",
  describe: "Revoke an API token; it stops working at once",
  builder: (yargs) => yargs.positional("id", { type: "string", demandOption: true, describe: "The token's id (see `cactus token list`)" }),
  async handler(args, context) {
    const id = parseId(args.id, "the token id");
    const client = await context.client();
    await client.call("revokeToken", { params: { tokenId: id } });
    context.output.success(`Token ${id} revoked`);
    context.output.result({ id, revoked: true }, () => "");
  },
});
