import type { RenderRequestCardDto } from "../../../contract";
import { formatCredits, formatWu } from "../../../domain/work-units";
import { defineCommand } from "../../lib/context";
import { UsageError } from "../../lib/errors";
import { parseId } from "../../lib/ids";

// Other people's renders asking for your workers, and your answers (docs/design.md §5).

const answer = (card: RenderRequestCardDto) => (card.decision === null ? "awaits you" : `${card.decision}${card.byRule ? " (rule)" : ""}`);
const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

export const requestList = defineCommand({
  command: "list",
  describe: "Renders asking for your workers: who asks, the scene, the quote and the price; those awaiting you first",
  async handler(_args, context) {
    const client = await context.client();
    const list = await client.call("listRequests", {});
    context.output.result(list, () =>
      context.output.table(
        ["render", "from", "scene", "frames", "quote", "price/WU", "answer"],
        list.requests.map((card) => [
          String(card.renderId),
          card.owner,
          [card.scene.filename, card.scene.engine, card.scene.resolution, card.scene.samples === null ? null : `${card.scene.samples} samples`, megabytes(card.scene.fileBytes), card.scene.hasScripts ? "has scripts (never run)" : null]
            .filter(Boolean)
            .join(", "),
          `${card.scene.frameRange} (${card.scene.frames})`,
          card.quote ? `${formatWu(card.quote.totalWu)} WU, ≤ ${formatCredits(card.quote.credits)} credits` : "-",
          formatCredits(card.price),
          answer(card),
        ]),
        "No one asks for your workers now.",
      ),
    );
  },
});

function decideCommand(decision: "accept" | "decline") {
  return defineCommand({
    command: `${decision} <id>`,
    describe:
      decision === "accept"
        ? "Let your workers render another person's render (sandboxed ones; see `cactus worker list`)"
        : "Keep your workers off another person's render",
    builder: (yargs) => yargs.positional("id", { type: "string", demandOption: true, describe: "The render's id (see `cactus request list`)" }),
    async handler(args, context) {
      const renderId = parseId(args.id, "The render's id");
      const client = await context.client();
      const card = await client.call(decision === "accept" ? "acceptRequest" : "declineRequest", { params: { renderId } });
      context.output.success(
        decision === "accept"
          ? `Accepted render ${renderId} from ${card.owner} at ${formatCredits(card.price)} credits per WU: your workers take its frames when they have nothing of yours.`
          : `Declined render ${renderId} from ${card.owner}.`,
      );
      context.output.result(card, () => "");
    },
  });
}

export const requestAccept = decideCommand("accept");
export const requestDecline = decideCommand("decline");

export const requestRule = defineCommand({
  command: "rule",
  describe: "Show or set your standing rule: accept every render paying at least a price per WU, from anyone or from whom you name",
  builder: (yargs) =>
    yargs
      .option("min-price", { type: "number", describe: "Accept renders paying at least this many credits per WU" })
      .option("from", { type: "string", describe: "Only from these people (comma-separated usernames); default anyone" })
      .option("off", { type: "boolean", describe: "Drop the rule (what it accepted is no longer accepted)" })
      .example("$0 request rule --min-price 1", "accept every render paying 1 credit per WU or more")
      .example("$0 request rule --min-price 0 --from alice,bob", "accept everything alice and bob ask")
      .example("$0 request rule --off", "answer each request yourself again"),
  async handler(args, context) {
    const client = await context.client();
    if (args.off) {
      if (args.minPrice !== undefined || args.from !== undefined) throw new UsageError("--off drops the rule: give it alone.");
      await client.call("deleteRequestRule", {});
      context.output.success("Your standing rule is gone: requests wait for your answer again.");
      context.output.result({ rule: null }, () => "");
      return;
    }
    if (args.minPrice === undefined && args.from !== undefined) throw new UsageError("Give --min-price with --from (0 takes any price).");
    const answer =
      args.minPrice === undefined
        ? await client.call("getRequestRule", {})
        : await client.call("setRequestRule", {
            body: {
              minPrice: args.minPrice,
              from: args.from === undefined ? null : args.from.split(",").map((name) => name.trim()).filter(Boolean),
            },
          });
    const { rule } = answer;
    if (args.minPrice !== undefined) context.output.success("Saved; renders asking now were answered by it too.");
    context.output.result(answer, () =>
      rule
        ? `You accept renders paying at least ${formatCredits(rule.minPrice)} credits per WU from ${rule.from === null ? "anyone" : rule.from.join(", ")}.`
        : "No standing rule: each request waits for your answer. Set one with `cactus request rule --min-price P`.",
    );
  },
});
