import { defineCommand } from "../../lib/context";
import { formatTime } from "../../lib/output";
import { formatCredits } from "../../../domain/work-units";

export const inviteList = defineCommand({
  command: "list",
  describe: "List the invitations you sent",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listInvitations", {});
    context.output.result(list, () =>
      context.output.table(
        ["id", "email", "credits", "expires", "used by", "used"],
        list.invitations.map((invitation) => [
          String(invitation.id),
          invitation.email,
          formatCredits(invitation.credits),
          formatTime(invitation.expiresAt),
          invitation.usedBy ?? "-",
          formatTime(invitation.usedAt),
        ]),
        "No invitations yet; `cactus invite create --email E` makes one.",
      ),
    );
  },
});
