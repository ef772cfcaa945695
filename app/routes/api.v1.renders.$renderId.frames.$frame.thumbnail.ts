import type { LoaderFunctionArgs } from "@remix-run/node";
import { handleApi, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { fileResponse } from "~/lib/download.server";
import { frameFile, frameParam } from "~/models/render-frames.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const id = idParam(params, "renderId", "render");
    const file = await frameFile({ id, userId: user.id, frame: frameParam(params), thumbnail: true });
    return fileResponse({ ...file, inline: true, cacheControl: "private, max-age=86400" });
  });
}
