import type { ActionFunctionArgs } from "@remix-run/node";
import { signupRequestSchema } from "../../contract";
import { apiError, apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { clientIp, takeSignupAttempt, tooManyAttemptsMessage } from "~/lib/rate-limit.server";
import { redeemInvitation } from "~/models/invitation.server";
import { openApiSession } from "~/models/token.server";

export function action({ request, context }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const input = await parseJsonBody(request, signupRequestSchema);
      const wait = takeSignupAttempt(clientIp(request, context));
      if (wait > 0) apiError("rate_limited", tooManyAttemptsMessage(wait), { "Retry-After": String(wait) });
      const user = await redeemInvitation({ code: input.invite, username: input.username, password: input.password });
      return apiJson(await openApiSession(user, input.tokenName), 201);
    },
  });
}
