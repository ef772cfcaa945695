import type { LoaderFunctionArgs } from "@remix-run/node";
import { framesQuerySchema } from "../../contract";
import { handleApi, idParam, parseWith } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { getRuntime } from "~/lib/runtime.server";
import { liveEventStream } from "~/lib/sse.server";
import { renderStream } from "~/models/render-live.server";
import { frameWindow } from "~/models/render-frames.server";
import { requireRenderRow } from "~/models/render.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user, stillAuthorized } = await requireApiUser(request);
    const where = { id: idParam(params, "renderId", "render"), userId: user.id };
    const query = parseWith(framesQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    const window = frameWindow(query.frames);
    // Not found is an ordinary 404, before any stream starts.
    await requireRenderRow(where);
    return liveEventStream(request, getRuntime().events, renderStream({ ...where, window }), { stillAuthorized });
  });
}
