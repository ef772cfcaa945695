import type { ActionFunctionArgs } from "@remix-run/node";
import { updateWorkerRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, noContent, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { deleteWorker, updateWorker } from "~/models/worker.server";

export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    PATCH: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "workerId", "worker");
      const change = await parseJsonBody(request, updateWorkerRequestSchema);
      return apiJson(await updateWorker({ id, userId: user.id, ...change }));
    },
    DELETE: async () => {
      const { user } = await requireApiUser(request);
      await deleteWorker({ id: idParam(params, "workerId", "worker"), userId: user.id });
      return noContent();
    },
  });
}
