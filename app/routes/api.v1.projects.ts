import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { createProjectRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { createProject, listProjects } from "~/models/project.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ projects: await listProjects(user.id) });
  });
}

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const { name } = await parseJsonBody(request, createProjectRequestSchema);
      return apiJson(await createProject({ userId: user.id, name }), 201);
    },
  });
}
