import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { renameProjectRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, idParam, noContent, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { deleteProject, renameProject, requireProject } from "~/models/project.server";

export function loader({ request, params }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    const id = idParam(params, "projectId", "project");
    return apiJson(await requireProject({ id, userId: user.id }));
  });
}

export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    PATCH: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "projectId", "project");
      const { name } = await parseJsonBody(request, renameProjectRequestSchema);
      return apiJson(await renameProject({ id, userId: user.id, name }));
    },
    DELETE: async () => {
      const { user } = await requireApiUser(request);
      await deleteProject({ id: idParam(params, "projectId", "project"), userId: user.id });
      return noContent();
    },
  });
}
