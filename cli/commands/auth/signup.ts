import { ApiClient } from "../../lib/client";
import { defineCommand } from "../../lib/context";
import { readPassword } from "../../lib/password";
import { saveSession, serverForSignIn, tokenName } from "./login";

export const signup = defineCommand({
  command: "signup",
  describe: "Create your account with an invitation code, and sign in",
  builder: (yargs) =>
    yargs
      .option("invite", { type: "string", demandOption: true, describe: "The invitation code (or the whole sign-up link)" })
      .option("username", { alias: "u", type: "string", demandOption: true, describe: "The username you want" })
      .option("password-stdin", { type: "boolean", describe: "Read the new password from stdin (else you are asked)" })
      .example(
        "echo \"$PASSWORD\" | $0 signup --server http://localhost:3000 --invite CODE -u ada --password-stdin",
        "redeem an invitation",
      ),
  async handler(args, context) {
    const server = await serverForSignIn(context);
    const password = await readPassword(context.io, args.passwordStdin);
    const session = await new ApiClient(server, undefined).call("signup", {
      body: { invite: inviteCode(args.invite), username: args.username, password, tokenName: tokenName() },
    });
    await saveSession(context, server, session, "Signed up on");
  },
});

/** People paste the link they were sent as often as the code: take either. */
export function inviteCode(value: string): string {
  try {
    const url = new URL(value);
    return url.searchParams.get("code") ?? url.searchParams.get("invite") ?? url.pathname.split("/").filter(Boolean).pop() ?? value;
  } catch {
    return value.trim();
  }
}
