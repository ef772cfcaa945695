import type { RenderEstimateDto } from "../../../contract";
import { defineCommand, type CliContext } from "../../lib/context";
import { parseId } from "../../lib/ids";
import { UsageError } from "../../lib/errors";
import { describeEstimate, estimateJson, formatWu, noEstimateYet, quotedBeside } from "../../lib/work-units";
import { describeExpectedStart } from "../../../domain/work-ahead";

export const renderEstimate = defineCommand({
  command: "estimate <id>",
  describe:
    "Show a render's estimate: total work units with a band, credits at its price, ETA with the workers online now that " +
    "would render it, WU per frame across the timeline (made again after every frame), and the expected start at its price: " +
    "the work ahead of it and when it would begin",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .option("price", { type: "number", describe: "Tell the expected start at this price (credits per WU) instead of its own" })
      .example("$0 render estimate 12", "the quote of render 12, its WU-per-frame table and its expected start")
      .example("$0 render estimate 12 --price 3", "what would be ahead of it at 3 credits per WU (`cactus render price 12 3` sets it)")
      .example("$0 render estimate 12 --json", "{status, sampled_frames, total_wu, band, credits, eta_seconds, curve, expected_start}"),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    if (args.price !== undefined && !(Number.isFinite(args.price) && args.price >= 0 && args.price <= 1_000_000)) {
      throw new UsageError(`--price is credits per WU, 0 to 1000000 (got ${String(args.price)}).`);
    }
    const client = await context.client();
    const estimate = await client.call("getRenderEstimate", {
      params: { renderId: id },
      query: { price: args.price === undefined ? undefined : String(args.price) },
    });
    if (context.output.json) {
      context.output.result(estimateJson(estimate), () => "");
      return;
    }
    context.output.result(estimate, () => describe(context, estimate));
  },
});

/** A table of the curve, then one line: the total, its band, credits, ETA; once confirmed, what was quoted. */
function describe(context: CliContext, estimate: RenderEstimateDto): string {
  const { estimate: summary, sample, renderId, status } = estimate;
  const sampled = sample.frames > 0 ? ` · ${sample.done}/${sample.frames} sample frames` : "";
  const start = estimate.expectedStart ? `\n${describeExpectedStart(estimate.expectedStart)}` : "";
  if (!summary) {
    // Sampling, none in yet: the line already says how many; not "estimating: 0 of 10 sample frames in" again.
    if (sample.frames > 0 && status === "estimating") return `Render ${renderId} estimating${sampled} in; the estimate comes with the first of them.${start}`;
    return `Render ${renderId} ${status}${sampled}: ${noEstimateYet({ status, sample })}.${start}`;
  }
  const table = context.output.table(
    ["frame", "WU", "band", ""],
    estimate.curve.map((point) => [
      String(point.frame),
      formatWu(point.wu),
      point.done ? "" : `${formatWu(point.low)}–${formatWu(point.high)}`,
      [point.sampled ? "sample" : "", point.done ? "done" : "estimated"].filter(Boolean).join(", "),
    ]),
    "",
  );
  const next = status === "quoted" ? `\nConfirm it with \`cactus render confirm ${renderId}\`.` : "";
  const quote = quotedBeside(status, estimate.quote, summary);
  const quoted = quote ? ` · quoted ${quote}` : "";
  return `${table}\nRender ${renderId} ${status}${sampled}: ${describeEstimate(summary, estimate.price, status)}${quoted}.${start}${next}`;
}
