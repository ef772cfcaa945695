import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { renderRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { listRenders, requestRender } from "~/models/render.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ renders: await listRenders(user.id) });
  });
}

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const body = await parseJsonBody(request, renderRequestSchema);
      return apiJson(await requestRender({ userId: user.id, request: body }), 201);
    },
  });
}
