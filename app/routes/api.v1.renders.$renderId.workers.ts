import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiJson, handleApi, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { listRenderWorkers } from "~/models/render-workers.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson(await listRenderWorkers({ id: idParam(params, "renderId", "render"), userId: user.id }));
  });
}
