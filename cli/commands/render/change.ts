import { defineCommand } from "../../lib/context";
import { parseId } from "../../lib/ids";

// `render cancel|pause|resume|confirm ID`: the same call on four endpoints.
const CHANGES = {
  confirm: {
    endpoint: "confirmRender",
    describe: "Accept a quoted render's quote: its other frames are queued for your workers",
    done: "Confirmed",
  },
  cancel: { endpoint: "cancelRender", describe: "Cancel a render; its agents stop at their next heartbeat", done: "Cancelled" },
  pause: { endpoint: "pauseRender", describe: "Pause a render: no more of its tasks are handed out", done: "Paused" },
  resume: { endpoint: "resumeRender", describe: "Resume a paused render", done: "Resumed" },
} as const;

function changeCommand(change: keyof typeof CHANGES) {
  const { endpoint, describe, done } = CHANGES[change];
  return defineCommand({
    command: `${change} <id>`,
    describe,
    builder: (yargs) => yargs.positional("id", { type: "string", demandOption: true, describe: "The render's id" }),
    async handler(args, context) {
      const id = parseId(args.id, "The render's id");
      const client = await context.client();
      const render = await client.call(endpoint, { params: { renderId: id } });
      context.output.success(`${done} render ${render.id}: it is ${render.status}`);
      context.output.result(render, () => "");
    },
  });
}

export const renderConfirm = changeCommand("confirm");
export const renderCancel = changeCommand("cancel");
export const renderPause = changeCommand("pause");
export const renderResume = changeCommand("resume");
