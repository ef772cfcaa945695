import { defineCommand } from "../../lib/context";
import { formatTime } from "../../lib/output";

export const tokenList = defineCommand({
  command: "list",
  describe: "List your API tokens",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listTokens", {});
    context.output.result(list, () =>
      context.output.table(
        ["id", "name", "created", "last used", "revoked"],
        list.tokens.map((token) => [
          String(token.id),
          token.name,
          formatTime(token.createdAt),
          formatTime(token.lastUsedAt),
          formatTime(token.revokedAt),
        ]),
        "No tokens.",
      ),
    );
  },
});
