import { defineCommand } from "../../lib/context";

export const whoami = defineCommand({
  command: "whoami",
  describe: "Show who the token belongs to",
  async handler(_args, context) {
    const client = await context.client();
    const user = await client.call("me", {});
    context.output.result(user, () => `${user.username} (${user.role}) on ${client.server} · ${user.credits} credits`);
  },
});
