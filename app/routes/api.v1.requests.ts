import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiJson, handleApi } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { listRequests } from "~/models/request.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ requests: await listRequests(user.id) });
  });
}
