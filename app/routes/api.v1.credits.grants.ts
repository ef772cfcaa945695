import type { ActionFunctionArgs } from "@remix-run/node";
import { grantCreditsRequestSchema } from "../../contract";
import { apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { requireApiAdmin } from "~/lib/auth.server";
import { adminGrant, toMilli } from "~/models/ledger.server";

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiAdmin(request);
      const { username, credits } = await parseJsonBody(request, grantCreditsRequestSchema);
      return apiJson(await adminGrant({ admin: user, username, amountMilli: toMilli(credits) }), 201);
    },
  });
}
