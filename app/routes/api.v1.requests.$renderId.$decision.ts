import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { apiErrorResponse, apiJson, byMethod, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { decideRequest } from "~/models/request.server";

// POST /requests/:renderId/accept and /decline: one route, as they differ only in the answer.
const DECISIONS: Record<string, "accepted" | "declined"> = { accept: "accepted", decline: "declined" };

function noSuchEndpoint(request: Request): Response {
  const { pathname } = new URL(request.url);
  return apiErrorResponse("not_found", `No API endpoint ${request.method} ${pathname}; see /api/v1/openapi.json.`);
}

export function loader({ request }: LoaderFunctionArgs) {
  return noSuchEndpoint(request);
}

export function action({ request, params }: ActionFunctionArgs) {
  const decision = DECISIONS[params.decision ?? ""];
  if (!decision) return noSuchEndpoint(request);
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const renderId = idParam(params, "renderId", "render");
      return apiJson(await decideRequest({ userId: user.id, renderId, decision }));
    },
  });
}
