import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { changeRenderRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, idParam, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { changeRenderSettings } from "~/models/render-credits.server";
import { requireRender } from "~/models/render.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson(await requireRender({ id: idParam(params, "renderId", "render"), userId: user.id }));
  });
}

// PATCH: a new price (the escrow follows it) or "only workers I enable".
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    PATCH: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "renderId", "render");
      const change = await parseJsonBody(request, changeRenderRequestSchema);
      return apiJson(await changeRenderSettings({ id, userId: user.id, ...change }));
    },
  });
}
