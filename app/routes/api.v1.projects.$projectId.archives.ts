import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { uploadQuerySchema } from "../../contract";
import { apiJson, byMethod, handleApi, idParam, parseWith } from "~/lib/api.server";
import { handleUpload, receiveArchiveUpload } from "~/lib/archive-upload.server";
import { requireApiUser } from "~/lib/auth.server";
import { listProjectArchives, toArchiveDto } from "~/models/archive.server";
import { requireProject } from "~/models/project.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const project = await requireProject({ id: idParam(params, "projectId", "project"), userId: user.id });
    return apiJson({ archives: (await listProjectArchives(project.id)).map(toArchiveDto) });
  });
}

/** The body is the file itself, streamed to disk; see receiveArchiveUpload. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: () =>
      handleUpload(request, async () => {
        const { user } = await requireApiUser(request);
        const project = await requireProject({ id: idParam(params, "projectId", "project"), userId: user.id });
        const query = parseWith(uploadQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
        const { archive, deduplicated } = await receiveArchiveUpload(request, {
          projectId: project.id,
          userId: user.id,
          filename: query.filename,
          main: query.main,
        });
        return apiJson({ ...toArchiveDto(archive), deduplicated }, deduplicated ? 200 : 201);
      }),
  });
}
