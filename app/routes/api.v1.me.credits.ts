import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiJson, handleApi } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { creditsOf } from "~/models/ledger.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson(await creditsOf(user.id));
  });
}
