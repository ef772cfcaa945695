import type { LoaderFunctionArgs } from "@remix-run/node";
import { handleApi, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { pollingEventStream } from "~/lib/sse.server";
import { isRenderFinished } from "../../domain/render-lifecycle";
import { renderFingerprint, requireRender, requireRenderRow } from "~/models/render.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user, stillAuthorized } = await requireApiUser(request);
    const where = { id: idParam(params, "renderId", "render"), userId: user.id };
    // Not found is an ordinary 404, before any stream starts.
    await requireRenderRow(where);
    return pollingEventStream(
      request,
      {
        fingerprint: () => renderFingerprint(where),
        load: async () => {
          const render = await requireRender(where);
          return { data: render, last: isRenderFinished(render.status) };
        },
      },
      { event: "render", stillAuthorized },
    );
  });
}
