import type { ActionFunctionArgs } from "@remix-run/node";
import { releaseRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { leaseOf, releaseLeasedTask } from "~/models/agent.server";

/** The agent is stopping: the task goes back in the queue and no failure is counted. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const taskId = idParam(params, "taskId", "task");
      const { leaseToken } = await parseJsonBody(request, releaseRequestSchema);
      return apiJson(await releaseLeasedTask(leaseOf(worker, taskId, leaseToken)));
    },
  });
}
