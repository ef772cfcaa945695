import type { ActionFunctionArgs } from "@remix-run/node";
import { grantCreditsRequestSchema } from "../../contract";
import { apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { adminGrant, toMilli } from "~/models/ledger.server";

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      // Signed in (401), a body that makes sense (400), then an admin (403, adminGrant).
      const { user } = await requireApiUser(request);
      const { username, credits } = await parseJsonBody(request, grantCreditsRequestSchema);
      return apiJson(await adminGrant({ admin: user, username, amountMilli: toMilli(credits) }), 201);
    },
  });
}
