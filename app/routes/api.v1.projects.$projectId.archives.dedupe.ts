import type { ActionFunctionArgs } from "@remix-run/node";
import { dedupeRequestSchema } from "../../contract";
import { apiJson, byMethod, idParam, parseJsonBody } from "~/lib/api.server";
import { dedupeArchive } from "~/lib/archive-upload.server";
import { requireApiUser } from "~/lib/auth.server";
import { toArchiveDto } from "~/models/archive.server";
import { requireProject } from "~/models/project.server";

export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const project = await requireProject({ id: idParam(params, "projectId", "project"), userId: user.id });
      const input = await parseJsonBody(request, dedupeRequestSchema);
      const { archive, deduplicated: alreadyInProject } = await dedupeArchive({ ...input, projectId: project.id, userId: user.id });
      // No bytes were sent either way; 201 only when a row was added, as an upload answers.
      return apiJson({ ...toArchiveDto(archive), deduplicated: true }, alreadyInProject ? 200 : 201);
    },
  });
}
