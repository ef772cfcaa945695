import type { ActionFunctionArgs } from "@remix-run/node";
import { topUpRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { topUpRender } from "~/models/render-credits.server";

export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "renderId", "render");
      const { credits } = await parseJsonBody(request, topUpRequestSchema);
      return apiJson(await topUpRender({ id, userId: user.id, credits }));
    },
  });
}
