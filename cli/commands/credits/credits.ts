import { formatCredits } from "../../../domain/work-units";
import { defineCommand } from "../../lib/context";
import { UsageError } from "../../lib/errors";
import { formatTime } from "../../lib/output";

const signed = (amount: number) => `${amount >= 0 ? "+" : "−"}${formatCredits(Math.abs(amount))}`;

export const creditsShow = defineCommand({
  command: "$0",
  describe: "Your balance, what your renders hold in escrow, and the ledger's newest entries",
  async handler(_args, context) {
    const client = await context.client();
    const credits = await client.call("getCredits", {});
    context.output.result(credits, () =>
      [
        `Balance ${formatCredits(credits.balance)} credits; ${formatCredits(credits.escrow)} in escrow for your renders.`,
        context.output.table(
          ["when", "amount", "reason", "render"],
          credits.entries.map((entry) => [formatTime(entry.at), signed(entry.amount), entry.reason, entry.render_id === null ? "-" : String(entry.render_id)]),
          "No credits have moved yet.",
        ),
      ].join("\n"),
    );
  },
});

export const creditsGrant = defineCommand({
  command: "grant <user> <credits>",
  describe: "Grant credits to a user from the farm's account (admins only)",
  builder: (yargs) =>
    yargs
      .positional("user", { type: "string", demandOption: true, describe: "Their username" })
      .positional("credits", { type: "string", demandOption: true, describe: "How many credits, e.g. 50" })
      .example("$0 credits grant alice 50", "give alice 50 credits"),
  async handler(args, context) {
    const credits = Number(args.credits);
    if (!(credits > 0)) throw new UsageError(`Credits must be a positive number, like 50; got "${args.credits}"`);
    const client = await context.client();
    const after = await client.call("grantCredits", { body: { username: args.user, credits } });
    context.output.success(`Granted ${formatCredits(credits)} credits to ${args.user}: their balance is ${formatCredits(after.balance)}.`);
    context.output.result(after, () => "");
  },
});
