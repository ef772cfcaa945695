import type { ActionFunctionArgs } from "@remix-run/node";
import { inspectionRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { leaseOf, recordInspection } from "~/models/agent.server";

/** The scene facts an inspect task read: they go on the archive. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const taskId = idParam(params, "taskId", "task");
      const { leaseToken, facts } = await parseJsonBody(request, inspectionRequestSchema);
      return apiJson(await recordInspection(leaseOf(worker, taskId, leaseToken), facts));
    },
  });
}
