import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { requestRuleSchema } from "../../contract";
import { apiJson, byMethod, handleApi, noContent, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { deleteRequestRule, getRequestRule, setRequestRule } from "~/models/request.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ rule: await getRequestRule(user.id) });
  });
}

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    PUT: async () => {
      const { user } = await requireApiUser(request);
      const rule = await parseJsonBody(request, requestRuleSchema);
      return apiJson({ rule: await setRequestRule(user.id, rule) });
    },
    DELETE: async () => {
      const { user } = await requireApiUser(request);
      await deleteRequestRule(user.id);
      return noContent();
    },
  });
}
