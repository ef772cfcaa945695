import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { apiErrorResponse } from "~/lib/api.server";

// Without this, an unknown /api/v1 path would fall through to the PWA's HTML 404 page;
// the CLI and agents expect the API's error shape.
function notFound({ request }: LoaderFunctionArgs | ActionFunctionArgs): Response {
  const { pathname } = new URL(request.url);
  return apiErrorResponse("not_found", `No API endpoint ${request.method} ${pathname}; see /api/v1/openapi.json.`);
}

export const loader = notFound;
export const action = notFound;
