import os from "node:os";
import { ApiClient } from "../../lib/client";
import { normalizeServer } from "../../lib/config";
import { defineCommand, type CliContext } from "../../lib/context";
import { UsageError } from "../../lib/errors";
import { readPassword } from "../../lib/password";
import type { ResponseOf } from "../../lib/client";

/** Where a new session goes: the server named by flag, env or the config file. */
export async function serverForSignIn(context: CliContext): Promise<string> {
  const { server } = await context.settings();
  if (!server) throw new UsageError("which server? Give --server URL (or set CACTUS_SERVER)");
  return normalizeServer(server);
}

export function tokenName(): string {
  return `cactus CLI on ${os.hostname()}`;
}

/** Keeps the server and the new token in the config file, as login and signup both do. */
export async function saveSession(
  context: CliContext,
  server: string,
  session: ResponseOf<"login">,
  verb: string,
): Promise<void> {
  const config = await context.readConfig();
  await context.writeConfig({ ...config, server, token: session.token });
  context.output.success(`${verb} ${server} as ${session.user.username}; the token is saved in ${context.configFile}`);
  context.output.result({ server, user: session.user, tokenId: session.tokenId }, () => session.user.username);
}

export const login = defineCommand({
  command: "login",
  describe: "Sign in and keep an API token in the config file",
  builder: (yargs) =>
    yargs
      .option("username", { alias: "u", type: "string", demandOption: true, describe: "Your username" })
      .option("password-stdin", { type: "boolean", describe: "Read the password from stdin (else you are asked)" })
      .example("echo \"$PASSWORD\" | $0 login --server http://localhost:3000 -u admin --password-stdin", "sign in from a script"),
  async handler(args, context) {
    const server = await serverForSignIn(context);
    const password = await readPassword(context.io, args.passwordStdin);
    const session = await new ApiClient(server, undefined).call("login", {
      body: { username: args.username, password, tokenName: tokenName() },
    });
    await saveSession(context, server, session, "Logged in to");
  },
});
