import type { LoaderFunctionArgs } from "@remix-run/node";
import { renderEstimateQuerySchema } from "../../contract";
import { apiJson, handleApi, idParam, parseWith } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { getRenderEstimate } from "~/models/render.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const { price } = parseWith(renderEstimateQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    return apiJson(await getRenderEstimate({ id: idParam(params, "renderId", "render"), userId: user.id, price }));
  });
}
