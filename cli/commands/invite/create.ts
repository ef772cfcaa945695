import { defineCommand } from "../../lib/context";
import { formatTime } from "../../lib/output";
import { formatCredits } from "../../../domain/work-units";

export const inviteCreate = defineCommand({
  command: "create",
  describe: "Invite someone: prints a one-time code and sign-up link; signing up with it grants the farm's starting credits",
  builder: (yargs) =>
    yargs
      .option("email", { type: "string", demandOption: true, describe: "Who the invitation is for" })
      .example("$0 invite create --email ada@example.com", "invite Ada"),
  async handler(args, context) {
    const client = await context.client();
    const invitation = await client.call("createInvitation", { body: { email: args.email } });
    context.output.message(
      `Send this to ${invitation.email}; it works once, until ${formatTime(invitation.expiresAt)}, ` +
        `and comes with ${formatCredits(invitation.credits)} credits.`,
    );
    context.output.result(invitation, () => `code: ${invitation.code}\nlink: ${invitation.url}`);
  },
});
