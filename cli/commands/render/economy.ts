import { formatCredits, formatWu } from "../../../domain/work-units";
import { defineCommand } from "../../lib/context";
import { UsageError } from "../../lib/errors";
import { parseId } from "../../lib/ids";

// A render's price, escrow and the workers on it (docs/design.md §4, §5).

function positiveNumber(value: unknown, what: string, { zero = false } = {}): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || (!zero && number === 0)) {
    throw new UsageError(`${what} must be a ${zero ? "non-negative" : "positive"} number, like 1.5; got "${String(value)}"`);
  }
  return number;
}

export const renderPrice = defineCommand({
  command: "price <id> <price>",
  describe: "Change a render's price per WU (its priority); its escrow follows: more is taken from your balance, or given back",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .positional("price", { type: "string", demandOption: true, describe: "Credits per work unit" })
      .example("$0 render price 12 2.5", "pay 2.5 credits per WU: it goes ahead of cheaper renders"),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const price = positiveNumber(args.price, "The price", { zero: true });
    const client = await context.client();
    const render = await client.call("changeRender", { params: { renderId: id }, body: { price } });
    context.output.success(`Render ${render.id} now pays ${formatCredits(render.price)} credits per WU; ${formatCredits(render.escrow)} in escrow; it is ${render.status}.`);
    context.output.result(render, () => "");
  },
});

export const renderTopUp = defineCommand({
  command: "top-up <id> <credits>",
  describe: "Move credits from your balance into a render's escrow (a render in needs-credits goes on)",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .positional("credits", { type: "string", demandOption: true, describe: "How many credits" }),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const credits = positiveNumber(args.credits, "Credits");
    const client = await context.client();
    const render = await client.call("topUpRender", { params: { renderId: id }, body: { credits } });
    context.output.success(`Render ${render.id} holds ${formatCredits(render.escrow)} credits in escrow; it is ${render.status}.`);
    context.output.result(render, () => "");
  },
});

export const renderWorkers = defineCommand({
  command: "workers <id>",
  describe: "The workers on a render — yours and other people's that accepted it — with their WUPM, frames, WU and your switch",
  builder: (yargs) =>
    yargs
      .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
      .option("only-enabled", { type: "boolean", describe: "Only workers you switch on may render it (--no-only-enabled: every accepting worker may)" }),
  async handler(args, context) {
    const id = parseId(args.id, "The render's id");
    const client = await context.client();
    if (args.onlyEnabled !== undefined) {
      await client.call("changeRender", { params: { renderId: id }, body: { onlyEnabledWorkers: args.onlyEnabled } });
      context.output.success(args.onlyEnabled ? `Only workers you switch on render ${id} now.` : `Every worker whose owner accepted render ${id} may render it now.`);
    }
    const list = await client.call("listRenderWorkers", { params: { renderId: id } });
    context.output.result(list, () =>
      [
        list.onlyEnabledWorkers ? "Only workers you switch on render it." : "Your workers, and other people's once they accept it, render it unless you switch them off.",
        context.output.table(
          ["id", "worker", "owner", "WUPM", "frames", "WU", "on"],
          list.workers.map((worker) => [
            String(worker.id),
            worker.name,
            worker.mine ? `${worker.owner} (you)` : worker.owner,
            worker.wupm === null ? "-" : worker.wupm.toFixed(2),
            String(worker.frames),
            formatWu(worker.wu),
            worker.allowed ? "on" : "off",
          ]),
          "No worker may render it yet: add one of yours, or wait for someone to accept it.",
        ),
      ].join("\n"),
    );
  },
});

function switchCommand(allowed: boolean) {
  return defineCommand({
    command: `${allowed ? "allow" : "deny"} <id>`,
    describe: allowed ? "Switch a worker on for a render" : "Switch a worker off for a render (a frame it is rendering finishes)",
    builder: (yargs) =>
      yargs
        .positional("id", { type: "string", demandOption: true, describe: "The render's id" })
        .option("worker", { alias: "w", type: "string", demandOption: true, describe: "The worker's id (see `cactus render workers ID`)" }),
    async handler(args, context) {
      const id = parseId(args.id, "The render's id");
      const workerId = parseId(args.worker, "The worker's id");
      const client = await context.client();
      const list = await client.call("switchRenderWorker", { params: { renderId: id, workerId }, body: { allowed } });
      const name = list.workers.find((worker) => worker.id === workerId)?.name ?? String(workerId);
      context.output.success(`Worker ${name} is ${allowed ? "on" : "off"} for render ${id}.`);
      context.output.result(list, () => "");
    },
  });
}

export const renderAllow = switchCommand(true);
export const renderDeny = switchCommand(false);
