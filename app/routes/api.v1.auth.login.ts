import type { ActionFunctionArgs } from "@remix-run/node";
import { loginRequestSchema } from "../../contract";
import { apiError, apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { clientIp, loginRetryAfter, noteLoginFailure, noteLoginSuccess, tooManyAttemptsMessage } from "~/lib/rate-limit.server";
import { openApiSession } from "~/models/token.server";
import { authenticate } from "~/models/user.server";

export function action({ request, context }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const input = await parseJsonBody(request, loginRequestSchema);
      const ip = clientIp(request, context);
      const wait = loginRetryAfter(ip, input.username);
      if (wait > 0) apiError("rate_limited", tooManyAttemptsMessage(wait), { "Retry-After": String(wait) });
      const user = await authenticate(input.username, input.password);
      if (!user) {
        noteLoginFailure(ip, input.username);
        apiError("unauthorized", "Wrong username or password; check both and try again.");
      }
      noteLoginSuccess(ip, input.username);
      return apiJson(await openApiSession(user, input.tokenName), 201);
    },
  });
}
