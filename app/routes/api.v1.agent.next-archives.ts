import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiJson, handleApi } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { archivesAhead } from "~/models/agent.server";

/** What the agent fetches while it renders, so the next task's archive costs no idle time. */
export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const worker = await requireWorker(request);
    return apiJson({ archives: await archivesAhead(worker) });
  });
}
