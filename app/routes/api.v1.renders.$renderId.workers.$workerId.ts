import type { ActionFunctionArgs } from "@remix-run/node";
import { switchRenderWorkerRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { switchRenderWorker } from "~/models/render-workers.server";

export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    PUT: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "renderId", "render");
      const workerId = idParam(params, "workerId", "worker");
      const { allowed } = await parseJsonBody(request, switchRenderWorkerRequestSchema);
      return apiJson(await switchRenderWorker({ id, userId: user.id, workerId, allowed }));
    },
  });
}
