import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { createWorkerRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { publicOriginOrNull } from "~/lib/runtime.server";
import { createWorker, listWorkers } from "~/models/worker.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ workers: await listWorkers(user.id) });
  });
}

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const { name } = await parseJsonBody(request, createWorkerRequestSchema);
      return apiJson(await createWorker({ userId: user.id, name, origin: publicOriginOrNull(request) }), 201);
    },
  });
}
