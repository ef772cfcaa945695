import type { ActionFunctionArgs } from "@remix-run/node";
import { completeRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { completeRenderTask, leaseOf } from "~/models/agent.server";

/** A render task whose frames were all accepted is done; its render too when it was the last. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const taskId = idParam(params, "taskId", "task");
      const { leaseToken } = await parseJsonBody(request, completeRequestSchema);
      return apiJson(await completeRenderTask(leaseOf(worker, taskId, leaseToken)));
    },
  });
}
