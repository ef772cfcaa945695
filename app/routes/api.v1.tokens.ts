import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { createTokenRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { createApiToken, listApiTokens, toApiTokenDto } from "~/models/token.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ tokens: (await listApiTokens(user.id)).map(toApiTokenDto) });
  });
}

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const input = await parseJsonBody(request, createTokenRequestSchema);
      const { token, secret } = await createApiToken({ userId: user.id, name: input.name });
      return apiJson({ ...toApiTokenDto(token), token: secret }, 201);
    },
  });
}
