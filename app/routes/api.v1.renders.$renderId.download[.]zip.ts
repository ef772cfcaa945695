import type { LoaderFunctionArgs } from "@remix-run/node";
import { downloadQuerySchema } from "../../contract";
import { handleApi, idParam, parseWith } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { fileResponse } from "~/lib/download.server";
import { renderZip } from "~/models/render-frames.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const id = idParam(params, "renderId", "render");
    const query = parseWith(downloadQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    const zip = await renderZip({ id, userId: user.id, frames: query.frames });
    return fileResponse({ ...zip, contentType: "application/zip" });
  });
}
