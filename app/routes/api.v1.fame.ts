import type { LoaderFunctionArgs } from "@remix-run/node";
import { fameQuerySchema } from "../../contract";
import { apiJson, handleApi, parseWith } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { getFame } from "~/models/fame.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    await requireApiUser(request);
    return apiJson(await getFame(parseWith(fameQuerySchema, Object.fromEntries(new URL(request.url).searchParams))));
  });
}
