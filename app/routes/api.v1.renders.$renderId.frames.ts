import type { LoaderFunctionArgs } from "@remix-run/node";
import { framesQuerySchema } from "../../contract";
import { apiJson, handleApi, idParam, parseWith } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { frameWindow, listFrames } from "~/models/render-frames.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const query = parseWith(framesQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    const window = frameWindow(query.frames);
    return apiJson({ frames: await listFrames({ id: idParam(params, "renderId", "render"), userId: user.id, window }) });
  });
}
