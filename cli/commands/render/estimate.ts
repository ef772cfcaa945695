import type { RenderEstimateDto } from "../../../contract";
import { defineCommand, type CliContext } from "../../lib/context";
import { parseId } from "../../lib/ids";
import { describeEstimate, estimateJson, formatWu, noEstimateYet, quotedBeside } from "../../lib/work-units";

export const renderEstimate = defineCommand({
  command: "estimate <id>",
  describe:
    "Show a render's estimate: total work units with a band, credits at its price, ETA with your workers online now, " +
    "and WU per frame across the timeline (made again after every frame)",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .example("$0 render estimate 12", "the quote of render 12 and its WU-per-frame table")
      .example("$0 render estimate 12 --json", "{status, sampled_frames, total_wu, band, credits, eta_seconds, curve}"),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const client = await context.client();
    const estimate = await client.call("getRenderEstimate", { params: { renderId: id } });
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
  if (!summary) {
    // Sampling, none in yet: the line already says how many; not "estimating: 0 of 10 sample frames in" again.
    if (sample.frames > 0 && status === "estimating") return `Render ${renderId} estimating${sampled} in; the estimate comes with the first of them.`;
    return `Render ${renderId} ${status}${sampled}: ${noEstimateYet({ status, sample })}.`;
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
  return `${table}\nRender ${renderId} ${status}${sampled}: ${describeEstimate(summary, estimate.price, status)}${quoted}.${next}`;
}
