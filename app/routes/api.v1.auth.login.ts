import type { ActionFunctionArgs } from "@remix-run/node";
import { loginRequestSchema } from "../../contract";
import { apiError, apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { clientIp } from "~/lib/rate-limit.server";
import { signIn } from "~/lib/sign-in.server";
import { openApiSession } from "~/models/token.server";

export function action({ request, context }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const input = await parseJsonBody(request, loginRequestSchema);
      const result = await signIn({ ip: clientIp(request, context), username: input.username, password: input.password });
      if (!result.ok) {
        apiError(result.code, result.message, result.code === "rate_limited" ? { "Retry-After": String(result.retryAfter) } : undefined);
      }
      return apiJson(await openApiSession(result.user, input.tokenName), 201);
    },
  });
}
