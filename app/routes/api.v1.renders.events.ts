import type { LoaderFunctionArgs } from "@remix-run/node";
import { handleApi } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { getRuntime } from "~/lib/runtime.server";
import { liveEventStream } from "~/lib/sse.server";
import { renderListStream } from "~/models/render-live.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return liveEventStream(request, getRuntime().events, renderListStream({ userId: user.id }));
  });
}
