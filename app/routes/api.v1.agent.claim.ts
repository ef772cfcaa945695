import type { ActionFunctionArgs } from "@remix-run/node";
import { apiJson, byMethod, noContent } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { claimNextTask } from "~/models/agent.server";

/** The next task for this worker with its lease, or 204: the agent backs off and asks again. */
export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const task = await claimNextTask(worker);
      return task ? apiJson({ task }) : noContent();
    },
  });
}
