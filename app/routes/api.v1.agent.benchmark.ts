import type { ActionFunctionArgs } from "@remix-run/node";
import { benchmarkRequestSchema } from "../../contract";
import { apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { recordBenchmark } from "~/models/agent.server";

/** What the agent's benchmark measured: the worker's WUPM from now on. */
export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const benchmark = await parseJsonBody(request, benchmarkRequestSchema);
      return apiJson(await recordBenchmark(worker, benchmark), 201);
    },
  });
}
