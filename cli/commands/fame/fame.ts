import { formatDuration, formatWu } from "../../../domain/work-units";
import { defineCommand } from "../../lib/context";
import { UsageError } from "../../lib/errors";

export const fame = defineCommand({
  command: "fame",
  describe: "The hall of fame: contributors (person and machine) by WU and by render time, the longest frame and the longest render",
  builder: (yargs) =>
    yargs
      .option("period", { type: "string", default: "all", describe: "all, or 30d for the last 30 days" })
      .option("page", { type: "number", default: 1, describe: "Page of 20 contributors" }),
  async handler(args, context) {
    if (args.period !== "all" && args.period !== "30d") throw new UsageError(`--period is all or 30d; got "${args.period}"`);
    if (!Number.isInteger(args.page) || args.page < 1) throw new UsageError(`--page is 1 or more; got "${args.page}"`);
    const client = await context.client();
    const fameSheet = await client.call("getFame", { query: { period: args.period, page: args.page } });
    const rows = (list: typeof fameSheet.byWu) =>
      list.map((row) => [String(row.rank), row.person, row.machine, formatWu(row.wu), formatDuration(row.renderSeconds), String(row.frames)]);
    const head = ["#", "person", "machine", "WU", "render time", "frames"];
    context.output.result(fameSheet, () =>
      [
        `By WU (${fameSheet.period === "all" ? "all time" : "last 30 days"}):`,
        context.output.table(head, rows(fameSheet.byWu), "Nothing rendered yet."),
        "By render time:",
        context.output.table(head, rows(fameSheet.byTime), "Nothing rendered yet."),
        fameSheet.longestFrame
          ? `Longest frame: ${formatDuration(fameSheet.longestFrame.seconds)}, frame ${fameSheet.longestFrame.frame} of render ${fameSheet.longestFrame.renderId}, by ${fameSheet.longestFrame.person}'s ${fameSheet.longestFrame.machine}.`
          : "Longest frame: none yet.",
        fameSheet.longestRender
          ? `Longest render: ${formatDuration(fameSheet.longestRender.seconds)} for ${formatWu(fameSheet.longestRender.wu)} WU (${fameSheet.longestRender.frames} frames), render ${fameSheet.longestRender.renderId} by ${fameSheet.longestRender.owner}.`
          : "Longest render: none finished yet.",
      ].join("\n"),
    );
  },
});
