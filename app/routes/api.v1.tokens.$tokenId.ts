import type { ActionFunctionArgs } from "@remix-run/node";
import { apiError, byMethod, idParam, noContent } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { revokeApiToken } from "~/models/token.server";

export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    DELETE: async () => {
      const { user } = await requireApiUser(request);
      const id = idParam(params, "tokenId", "API token");
      if (!(await revokeApiToken({ id, userId: user.id }))) apiError("not_found", `You have no API token ${id}; see \`cactus token list\`.`);
      return noContent();
    },
  });
}
