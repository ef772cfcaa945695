import { defineCommand } from "../../lib/context";
import { AuthError } from "../../lib/errors";

export const logout = defineCommand({
  command: "logout",
  describe: "Revoke the token on the server and remove it from the config file",
  async handler(_args, context) {
    const client = await context.client();
    let revoked = true;
    try {
      await client.call("logout", {});
    } catch (error) {
      // A token the server no longer accepts is as good as revoked: still forget it here.
      if (!(error instanceof AuthError)) throw error;
      revoked = false;
    }
    const { token, ...rest } = await context.readConfig();
    if (token !== undefined) await context.writeConfig(rest);
    context.output.success(revoked ? `Logged out of ${client.server}` : "The token was no longer valid; removed it here");
    context.output.result({ server: client.server, revoked }, () => "");
  },
});
