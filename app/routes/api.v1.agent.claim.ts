import type { ActionFunctionArgs } from "@remix-run/node";
import { claimRequestSchema } from "../../contract";
import { apiJson, byMethod, noContent, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { claimNextTask } from "~/models/agent.server";

/**
 * The next task for this worker with its lease, or 204. An idle agent asks with
 * waitSeconds: the answer then waits until a task it may take appears or that time passes.
 */
export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const { waitSeconds } = await parseJsonBody(request, claimRequestSchema);
      const task = await claimNextTask(worker, { waitSeconds, signal: request.signal });
      return task ? apiJson({ task }) : noContent();
    },
  });
}
