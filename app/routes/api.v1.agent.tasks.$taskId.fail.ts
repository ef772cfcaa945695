import type { ActionFunctionArgs } from "@remix-run/node";
import { failRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { failLeasedTask, leaseOf } from "~/models/agent.server";

/** Blender failed (or the scene could not be read): the error and log tail are kept for the owner. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const taskId = idParam(params, "taskId", "task");
      const { leaseToken, error, logTail } = await parseJsonBody(request, failRequestSchema);
      return apiJson(await failLeasedTask(leaseOf(worker, taskId, leaseToken), { error, logTail }));
    },
  });
}
