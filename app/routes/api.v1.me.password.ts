import type { ActionFunctionArgs } from "@remix-run/node";
import { changePasswordRequestSchema } from "../../contract";
import { apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { clientIp } from "~/lib/rate-limit.server";
import { changePasswordLimited } from "~/lib/sign-in.server";

export function action({ request, context }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user, session } = await requireApiUser(request);
      const input = await parseJsonBody(request, changePasswordRequestSchema);
      const answer = await changePasswordLimited({
        ip: clientIp(request, context),
        user,
        current: input.currentPassword,
        next: input.newPassword,
        keepSessionId: session?.id ?? null,
      });
      return apiJson(answer);
    },
  });
}
