import type { ActionFunctionArgs } from "@remix-run/node";
import { heartbeatRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { heartbeat, leaseOf } from "~/models/agent.server";

/** Extends the lease; keepRunning false when the render stopped, 409 when the lease is gone. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const taskId = idParam(params, "taskId", "task");
      const { leaseToken, progress } = await parseJsonBody(request, heartbeatRequestSchema);
      return apiJson(await heartbeat(leaseOf(worker, taskId, leaseToken), progress));
    },
  });
}
