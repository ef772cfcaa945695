import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiError, apiJson, handleApi, idParam } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { getArchive, toArchiveDto } from "~/models/archive.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const id = idParam(params, "archiveId", "archive");
    const archive = await getArchive({ id, userId: user.id });
    if (!archive) apiError("not_found", `You have no archive ${id}; see \`cactus archive list --project <project>\`.`);
    return apiJson(toArchiveDto(archive));
  });
}
