import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { apiErrorResponse, apiJson, byMethod, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { changeRender, type RenderChange } from "~/models/render.server";

// POST /renders/:id/cancel, /pause, /resume and /confirm: one route, as they differ only in the change.
const CHANGES: readonly string[] = ["cancel", "pause", "resume", "confirm"] satisfies RenderChange[];

function noSuchEndpoint(request: Request): Response {
  const { pathname } = new URL(request.url);
  return apiErrorResponse("not_found", `No API endpoint ${request.method} ${pathname}; see /api/v1/openapi.json.`);
}

export function loader({ request }: LoaderFunctionArgs) {
  return noSuchEndpoint(request);
}

export function action({ request, params }: ActionFunctionArgs) {
  const change = params.change ?? "";
  if (!CHANGES.includes(change)) return noSuchEndpoint(request);
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "renderId", "render");
      return apiJson(await changeRender({ id, userId: user.id, change: change as RenderChange }));
    },
  });
}
