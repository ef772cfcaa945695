import type { ActionFunctionArgs } from "@remix-run/node";
import { apiError, byMethod, noContent } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { revokeApiToken } from "~/models/token.server";

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user, token } = await requireApiUser(request);
      if (!token) apiError("bad_request", "This request carried no API token to revoke; the web app signs out at /logout.");
      await revokeApiToken({ id: token.id, userId: user.id });
      return noContent();
    },
  });
}
