import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiJson, handleApi, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { listRenderFailures } from "~/models/render-failures.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson(await listRenderFailures({ id: idParam(params, "renderId", "render"), userId: user.id }));
  });
}
